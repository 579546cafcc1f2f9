import { generateSecret, hashSecret } from '@repo/auth'
import { type User, withNoContext, withUser } from '@repo/db'
import { emailJob } from '@repo/jobs'
import { announceAccessChange } from './access-changes.ts'
import { AppError, errors } from './app-error.ts'
import { recordAudit } from './audit.ts'
import type { CoreDeps, RequestMeta } from './context.ts'
import { sealEmailLink } from './email-links.ts'
import { getAccount } from './get-account.ts'
import { verificationResendsKey } from './lockout-keys.ts'
import { addToOutbox } from './outbox.ts'

const VERIFICATION_TTL_MS = 24 * 3_600_000

export const invalidLink = () =>
  new AppError({
    code: 'invalid_token',
    status: 400,
    userMessage: 'This link is invalid, was already used or has expired.',
  })

/** Emails the user a single-use, expiring link proving they own their address. */
export async function sendEmailVerification(
  deps: CoreDeps,
  input: { user: Pick<User, 'id' | 'email' | 'name'> },
  meta: RequestMeta = {},
) {
  const token = generateSecret()
  const url = new URL('/verify-email', deps.appUrl)
  url.searchParams.set('token', token)
  // The token and its email commit together (the outbox): no token without its email.
  await withUser(deps.db, input.user.id, async (tx) => {
    await tx.emailVerification.create({
      data: {
        userId: input.user.id,
        email: input.user.email,
        tokenHash: hashSecret(token),
        expiresAt: new Date(Date.now() + VERIFICATION_TTL_MS),
      },
    })
    await addToOutbox(
      tx,
      emailJob,
      {
        template: 'verify-email',
        to: input.user.email,
        name: input.user.name,
        sealedUrl: sealEmailLink(url, deps.secretsKey),
      },
      { meta },
    )
  })
}

/**
 * Marks the email verified. The token is claimed with one conditional UPDATE (unused and
 * unexpired), so it works exactly once even when the link is opened twice at the same
 * moment, and only for the address it was sent to.
 */
export async function verifyEmail(
  deps: CoreDeps,
  input: { token: string },
  meta: RequestMeta = {},
) {
  if (!/^[A-Za-z0-9_-]{43}$/.test(input.token)) throw invalidLink()
  const tokenHash = hashSecret(input.token)
  // The link may be opened signed out: no user context until the token names one.
  const user = await withNoContext(deps.db, async (tx) => {
    const now = new Date()
    const claimed = await tx.emailVerification.updateMany({
      where: { tokenHash, usedAt: null, expiresAt: { gt: now } },
      data: { usedAt: now },
    })
    if (claimed.count !== 1) throw invalidLink()
    const verification = await tx.emailVerification.findUniqueOrThrow({
      where: { tokenHash },
      include: { user: true },
    })
    if (verification.user.email !== verification.email) throw invalidLink()
    const user = await tx.user.update({
      where: { id: verification.userId },
      data: { emailVerifiedAt: verification.user.emailVerifiedAt ?? now },
    })
    await recordAudit(tx, {
      action: 'user.email_verified',
      actorUserId: user.id,
      targetType: 'user',
      targetId: user.id,
      ipAddress: meta.ipAddress,
    })
    return user
  })
  await announceAccessChange(deps, { userIds: [user.id] })
  return getAccount(deps, user)
}

/** A new verification link on request: five an hour per account (the route also limits per IP). */
export async function resendEmailVerification(
  deps: CoreDeps,
  input: { user: Pick<User, 'id' | 'email' | 'name' | 'emailVerifiedAt'> },
  meta: RequestMeta = {},
) {
  if (input.user.emailVerifiedAt)
    throw errors.conflict('already_verified', 'Your email address is already verified.')
  const counter = verificationResendsKey(input.user.id)
  const sent = await deps.redis.incr(counter)
  if (sent === 1) await deps.redis.pexpire(counter, 3_600_000)
  if (sent > 5) {
    throw new AppError({
      code: 'rate_limited',
      status: 429,
      userMessage: 'Too many verification emails. Try again in an hour.',
      retryAfterSeconds: 3_600,
    })
  }
  await sendEmailVerification(deps, input, meta)
}
