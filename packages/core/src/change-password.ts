import { createSession, hashPassword, passwordProblem, verifyPassword } from '@repo/auth'
import { withUser } from '@repo/db'
import { announceAccessChange } from './access-changes.ts'
import { AppError, errors } from './app-error.ts'
import { recordAudit } from './audit.ts'
import type { CoreDeps, RequestMeta } from './context.ts'

/**
 * Changes the password after checking the current one, signs the user out of every
 * session (a stolen token dies with the old password) and answers a fresh session for
 * the caller, all in one transaction.
 */
export async function changePassword(
  deps: CoreDeps,
  input: { userId: string; currentPassword: string; newPassword: string },
  meta: RequestMeta = {},
) {
  const user = await deps.db.user.findUnique({ where: { id: input.userId } })
  if (!user) throw errors.unauthenticated()
  if (!(await verifyPassword(user.passwordHash, input.currentPassword))) {
    throw new AppError({
      // Not sign-in's invalid_credentials (401): a problem type keeps one status.
      code: 'wrong_current_password',
      status: 400,
      userMessage: 'The current password is incorrect.',
      fields: [{ field: 'body.currentPassword', message: 'is incorrect' }],
    })
  }
  const problem = passwordProblem(input.newPassword, { email: user.email })
  if (problem) throw errors.invalid('body.newPassword', `Password ${problem}.`)
  const passwordHash = await hashPassword(input.newPassword)
  const session = await withUser(deps.db, user.id, async (tx) => {
    await tx.user.update({ where: { id: user.id }, data: { passwordHash } })
    const { count } = await tx.session.deleteMany({ where: { userId: user.id } })
    await recordAudit(tx, {
      action: 'user.password_changed',
      actorUserId: user.id,
      targetType: 'user',
      targetId: user.id,
      ipAddress: meta.ipAddress,
      metadata: { sessionsRevoked: count },
    })
    return createSession(tx, deps.sessionPolicy, user.id, meta)
  })
  await announceAccessChange(deps, { userIds: [user.id] })
  return session
}
