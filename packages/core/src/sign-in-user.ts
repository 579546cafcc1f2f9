import { createSession, verifyPassword } from '@repo/auth'
import { withUser } from '@repo/db'
import { AppError } from './app-error.ts'
import { recordAudit } from './audit.ts'
import type { CoreDeps, RequestMeta } from './context.ts'
import { hasMfa, startMfaChallenge } from './mfa.ts'
import {
  ACCOUNT_POLICY,
  accountThrottleKey,
  claimSignInAttempt,
  clearSignInFailures,
  isKnownNetwork,
  refundSignInAttempt,
  rememberOwnerNetwork,
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
  const network = meta.clientNetwork ?? meta.ipAddress ?? ''
  const throttle = signInThrottleKey(email, network)
  const accountThrottle = accountThrottleKey(email)
  // With Redis down the throttle cannot count: sign-in stays available (logged), and the
  // per-IP limits fail open the same way. A throttled caller still gets its 429.
  const unavailable = (error: unknown) => {
    if (error instanceof AppError) throw error
    deps.logger.warn({ err: error }, 'sign-in throttle unavailable')
  }
  // Each attempt is counted as a failure before the password is checked, in the same
  // atomic step as the check (a success clears it): a burst of parallel guesses cannot
  // all pass the check before the first failure is counted.
  await claimSignInAttempt(deps.redis, throttle).catch(unavailable)
  // Guessing from many addresses slows the account down too, briefly (ACCOUNT_POLICY),
  // except from a network the account signed in from before: its owner is not locked out.
  const known = await isKnownNetwork(deps.redis, email, network).catch(() => false)
  await claimSignInAttempt(deps.redis, accountThrottle, ACCOUNT_POLICY).catch(async (error) => {
    if (known && error instanceof AppError) return
    // Refused before any password was checked: not a guess from this address.
    if (error instanceof AppError) await refundSignInAttempt(deps.redis, throttle).catch(() => {})
    unavailable(error)
  })
  const user = await deps.db.user.findUnique({ where: { email } })
  const ok = await verifyPassword(user?.passwordHash, input.password)
  if (!user || !ok) {
    if (user)
      // An account's own security event, in its audit trail. Not awaited: the answer must
      // take as long whether or not the account exists (the Argon2id check above already
      // runs for both), and a lost entry costs less than a measurable difference.
      void withUser(deps.db, user.id, (tx) =>
        recordAudit(tx, {
          action: 'user.sign_in_failed',
          actorUserId: user.id,
          targetType: 'user',
          targetId: user.id,
          ipAddress: meta.ipAddress,
        }),
      ).catch((err: unknown) => deps.logger.warn({ err }, 'could not audit a failed sign-in'))
    // A failure for an email with no account concerns nobody's data: it goes to the logs
    // (and their metrics), never to the audit log, which strangers could otherwise grow.
    else
      deps.logger.info(
        { event: 'auth.sign_in_unknown_account', ipAddress: meta.ipAddress },
        'sign-in failed',
      )
    throw invalidCredentials()
  }
  await Promise.all([
    clearSignInFailures(deps.redis, throttle),
    clearSignInFailures(deps.redis, accountThrottle),
  ]).catch((err: unknown) => deps.logger.warn({ err }, 'sign-in throttle unavailable'))
  // The password was right; with MFA on, a second factor is due before any session exists.
  if (await hasMfa(deps, user.id))
    return { mfaRequired: true as const, mfaToken: await startMfaChallenge(deps, user.id) }
  // The session and its audit entry commit together.
  const { token, session } = await withUser(deps.db, user.id, async (tx) => {
    const created = await createSession(tx, deps.sessionPolicy, user.id, meta)
    await recordAudit(tx, {
      action: 'user.signed_in',
      actorUserId: user.id,
      targetType: 'session',
      targetId: created.session.id,
      ipAddress: meta.ipAddress,
    })
    return created
  })
  // A network the owner fully signed in from. With MFA, completeMfaChallenge records it
  // once both factors are proven: a password alone must not make a network known.
  await rememberOwnerNetwork(deps, email, meta)
  // Only reached without a confirmed factor (checked above).
  return { mfaRequired: false as const, user: { ...user, mfaEnabled: false }, token, session }
}
