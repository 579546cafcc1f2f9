import { generateSecret, hashPassword, hashSecret, passwordProblem } from '@repo/auth'
import { withNoContext } from '@repo/db'
import { emailJob } from '@repo/jobs'
import { announceAccessChange } from './access-changes.ts'
import { errors } from './app-error.ts'
import { recordAudit } from './audit.ts'
import type { CoreDeps, RequestMeta } from './context.ts'
import { sealEmailLink } from './email-links.ts'
import { resetRequestsKey } from './lockout-keys.ts'
import { addToOutbox } from './outbox.ts'
import { rememberOwnerNetwork } from './sign-in-throttle.ts'
import { invalidLink } from './verify-email.ts'

const RESET_TTL_MS = 3_600_000
const RESETS_PER_WINDOW = 5
const RESET_WINDOW_MS = 3_600_000

/**
 * Emails a single-use, one-hour reset link when the account exists; does nothing
 * otherwise. Callers answer the same either way (and should not wait for this), so the
 * answer does not reveal whether an email has an account.
 */
export async function requestPasswordReset(
  deps: CoreDeps,
  input: { email: string },
  meta: RequestMeta = {},
) {
  const email = input.email.trim().toLowerCase()
  // Per account and client address: nobody floods an inbox, and an attacker's requests
  // cannot use up the owner's own (the per-IP limit caps each address overall).
  const counter = resetRequestsKey(email, meta.clientNetwork ?? meta.ipAddress ?? '')
  // Redis down: count nothing and send. The per-IP limit still holds (from memory), and
  // the email waits in the outbox, so a reset works through the outage.
  const requests = await deps.redis
    .incr(counter)
    .then(async (n) => {
      if (n === 1) await deps.redis.pexpire(counter, RESET_WINDOW_MS)
      return n
    })
    .catch((err: unknown) => {
      deps.logger.warn({ err }, 'password reset counter unavailable; not counting')
      return 0
    })
  if (requests > RESETS_PER_WINDOW) {
    deps.logger.warn(
      { requests },
      'password reset requests over the per-account limit; not sending',
    )
    return
  }
  const user = await deps.db.user.findUnique({ where: { email } })
  if (!user) return
  const token = generateSecret()
  const url = new URL('/reset-password', deps.appUrl)
  url.searchParams.set('token', token)
  // The token, the audit entry and the email commit together (the outbox). Nobody is
  // signed in: no user context (the account tables have no row-level security).
  await withNoContext(deps.db, async (tx) => {
    await tx.passwordReset.create({
      data: {
        userId: user.id,
        tokenHash: hashSecret(token),
        expiresAt: new Date(Date.now() + RESET_TTL_MS),
      },
    })
    await recordAudit(tx, {
      action: 'user.password_reset_requested',
      actorUserId: user.id,
      targetType: 'user',
      targetId: user.id,
      ipAddress: meta.ipAddress,
    })
    await addToOutbox(
      tx,
      emailJob,
      {
        template: 'password-reset',
        to: user.email,
        name: user.name,
        sealedUrl: sealEmailLink(url, deps.secretsKey),
      },
      { meta },
    )
  })
}

/**
 * Sets a new password with a reset token: claimed once (conditional UPDATE), every
 * session revoked and every other outstanding reset token voided, in one transaction.
 */
export async function resetPassword(
  deps: CoreDeps,
  input: { token: string; newPassword: string },
  meta: RequestMeta = {},
) {
  if (!/^[A-Za-z0-9_-]{43}$/.test(input.token)) throw invalidLink()
  const tokenHash = hashSecret(input.token)
  const pending = await deps.db.passwordReset.findUnique({
    where: { tokenHash },
    include: { user: true },
  })
  if (!pending || pending.usedAt || pending.expiresAt <= new Date()) throw invalidLink()
  const problem = passwordProblem(input.newPassword, { email: pending.user.email })
  if (problem) throw errors.invalid('body.newPassword', `Password ${problem}.`)
  const passwordHash = await hashPassword(input.newPassword)
  await withNoContext(deps.db, async (tx) => {
    const now = new Date()
    const claimed = await tx.passwordReset.updateMany({
      where: { tokenHash, usedAt: null, expiresAt: { gt: now } },
      data: { usedAt: now },
    })
    if (claimed.count !== 1) throw invalidLink()
    await tx.user.update({ where: { id: pending.userId }, data: { passwordHash } })
    await tx.passwordReset.updateMany({
      where: { userId: pending.userId, usedAt: null },
      data: { usedAt: now },
    })
    const { count } = await tx.session.deleteMany({ where: { userId: pending.userId } })
    await recordAudit(tx, {
      action: 'user.password_reset',
      actorUserId: pending.userId,
      targetType: 'user',
      targetId: pending.userId,
      ipAddress: meta.ipAddress,
      metadata: { sessionsRevoked: count },
    })
  })
  await announceAccessChange(deps, { userIds: [pending.userId] })
  // The reset link proved the mailbox is theirs: sign-in from here is the owner's.
  await rememberOwnerNetwork(deps, pending.user.email, meta)
}
