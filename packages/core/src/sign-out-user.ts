import { invalidateSession } from '@repo/auth'
import { recordAudit } from './audit.ts'
import type { CoreDeps, RequestMeta } from './context.ts'

/** Ends one session (the caller's). */
export async function signOutUser(
  deps: CoreDeps,
  input: { userId: string; sessionId: string },
  meta: RequestMeta = {},
) {
  await invalidateSession(deps.db, input.sessionId)
  await recordAudit(deps.db, {
    action: 'user.signed_out',
    actorUserId: input.userId,
    targetType: 'session',
    targetId: input.sessionId,
    ipAddress: meta.ipAddress,
  })
}
