import { invalidateSession } from '@repo/auth'
import { withUser } from '@repo/db'
import { announceAccessChange } from './access-changes.ts'
import { recordAudit } from './audit.ts'
import type { CoreDeps, RequestMeta } from './context.ts'

/** Ends one session (the caller's). */
export async function signOutUser(
  deps: CoreDeps,
  input: { userId: string; sessionId: string },
  meta: RequestMeta = {},
) {
  await withUser(deps.db, input.userId, async (tx) => {
    await invalidateSession(tx, input.sessionId)
    await recordAudit(tx, {
      action: 'user.signed_out',
      actorUserId: input.userId,
      targetType: 'session',
      targetId: input.sessionId,
      ipAddress: meta.ipAddress,
    })
  })
  await announceAccessChange(deps, { userIds: [input.userId] })
}
