import type { CoreDeps } from './context.ts'
import { NEWEST_FIRST, type PageRequest, pageQuery, toPage } from './pagination.ts'

/** The user's active sessions, newest first; `current` marks the caller's own. */
export async function listSessions(
  deps: CoreDeps,
  input: { userId: string; currentSessionId: string },
  page: PageRequest,
) {
  const query = pageQuery(page, NEWEST_FIRST)
  const rows = await deps.db.session.findMany({
    ...query,
    where: { userId: input.userId, expiresAt: { gt: new Date() }, ...query.where },
  })
  const result = toPage(rows, page, NEWEST_FIRST)
  return {
    ...result,
    data: result.data.map((session) => ({
      ...session,
      current: session.id === input.currentSessionId,
    })),
  }
}
