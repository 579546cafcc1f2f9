import type { CoreDeps } from './context.ts'

/** The user's active sessions, newest first; `current` marks the caller's own. */
export async function listSessions(
  deps: CoreDeps,
  input: { userId: string; currentSessionId: string },
) {
  const sessions = await deps.db.session.findMany({
    where: { userId: input.userId, expiresAt: { gt: new Date() } },
    orderBy: { createdAt: 'desc' },
    take: 100,
  })
  return sessions.map((session) => ({ ...session, current: session.id === input.currentSessionId }))
}
