import { invalidateUserSessions } from '@repo/auth'
import { withUser } from '@repo/db'
import { announceAccessChange } from './access-changes.ts'
import { errors } from './app-error.ts'
import { recordAudit } from './audit.ts'
import type { CoreDeps, RequestMeta } from './context.ts'

/** Ends one of the user's own sessions. Another user's session id is "not found". */
export async function revokeSession(
  deps: CoreDeps,
  input: { userId: string; sessionId: string },
  meta: RequestMeta = {},
) {
  await withUser(deps.db, input.userId, async (tx) => {
    const { count } = await tx.session.deleteMany({
      where: { id: input.sessionId, userId: input.userId },
    })
    if (count === 0) throw errors.notFound('The session')
    await recordAudit(tx, {
      action: 'session.revoked',
      actorUserId: input.userId,
      targetType: 'session',
      targetId: input.sessionId,
      ipAddress: meta.ipAddress,
    })
  })
  await announceAccessChange(deps, { userIds: [input.userId] })
}

/** Signs the user out everywhere except the current session. */
export async function revokeOtherSessions(
  deps: CoreDeps,
  input: { userId: string; currentSessionId: string },
  meta: RequestMeta = {},
) {
  const revoked = await withUser(deps.db, input.userId, async (tx) => {
    const revoked = await invalidateUserSessions(tx, input.userId, input.currentSessionId)
    await recordAudit(tx, {
      action: 'session.revoked_others',
      actorUserId: input.userId,
      targetType: 'user',
      targetId: input.userId,
      ipAddress: meta.ipAddress,
      metadata: { revoked },
    })
    return revoked
  })
  await announceAccessChange(deps, { userIds: [input.userId] })
  return revoked
}
