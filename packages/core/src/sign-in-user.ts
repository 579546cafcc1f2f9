import { createSession, verifyPassword } from '@repo/auth'
import { AppError } from './app-error.ts'
import { recordAudit } from './audit.ts'
import type { CoreDeps, RequestMeta } from './context.ts'
import { hasMfa, startMfaChallenge } from './mfa.ts'
import {
  assertSignInAllowed,
  clearSignInFailures,
  recordSignInFailure,
  signInThrottleKey,
} from './sign-in-throttle.ts'

export const invalidCredentials = () =>
  new AppError({
    code: 'invalid_credentials',
    status: 401,
    userMessage: 'The email or password is incorrect.',
  })

/**
 * Signs in with email and password. An unknown email and a wrong password get the same
 * answer after the same work (one Argon2id verification), so neither the answer nor its
 * timing reveals whether an account exists. Each sign-in gets a new session.
 */
export async function signInUser(
  deps: CoreDeps,
  input: { email: string; password: string },
  meta: RequestMeta = {},
) {
  const email = input.email.trim().toLowerCase()
  const throttle = signInThrottleKey(email, meta.clientNetwork ?? meta.ipAddress)
  // With Redis down the throttle cannot count: sign-in stays available (logged), and the
  // per-IP limits fail open the same way. A throttled caller still gets its 429.
  await assertSignInAllowed(deps.redis, throttle).catch((error: unknown) => {
    if (error instanceof AppError) throw error
    deps.logger.warn({ err: error }, 'sign-in throttle unavailable')
  })
  const user = await deps.db.user.findUnique({ where: { email } })
  const ok = await verifyPassword(user?.passwordHash, input.password)
  if (!user || !ok) {
    if (user)
      // An account's own security event, in its audit trail. Not awaited: the answer must
      // take as long whether or not the account exists (the Argon2id check above already
      // runs for both), and a lost entry costs less than a measurable difference.
      void recordAudit(deps.db, {
        action: 'user.sign_in_failed',
        actorUserId: user.id,
        targetType: 'user',
        targetId: user.id,
        ipAddress: meta.ipAddress,
      }).catch((err: unknown) => deps.logger.warn({ err }, 'could not audit a failed sign-in'))
    // A failure for an email with no account concerns nobody's data: it goes to the logs
    // (and their metrics), never to the audit log, which strangers could otherwise grow.
    else
      deps.logger.info(
        { event: 'auth.sign_in_unknown_account', ipAddress: meta.ipAddress },
        'sign-in failed',
      )
    await recordSignInFailure(deps.redis, throttle).catch((err: unknown) =>
      deps.logger.warn({ err }, 'sign-in throttle unavailable'),
    )
    throw invalidCredentials()
  }
  await clearSignInFailures(deps.redis, throttle).catch((err: unknown) =>
    deps.logger.warn({ err }, 'sign-in throttle unavailable'),
  )
  // The password was right; with MFA on, a second factor is due before any session exists.
  if (await hasMfa(deps, user.id))
    return { mfaRequired: true as const, mfaToken: await startMfaChallenge(deps, user.id) }
  const { token, session } = await createSession(deps.db, deps.sessionPolicy, user.id, meta)
  await recordAudit(deps.db, {
    action: 'user.signed_in',
    actorUserId: user.id,
    targetType: 'session',
    targetId: session.id,
    ipAddress: meta.ipAddress,
  })
  return { mfaRequired: false as const, user, token, session }
}
