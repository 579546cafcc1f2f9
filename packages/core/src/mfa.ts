import {
  createSession,
  decryptSecret,
  encryptSecret,
  generateSecret,
  hashSecret,
  matchTotp,
  newRecoveryCodes,
  newTotpSecret,
  verifyPassword,
} from '@repo/auth'
import { type Session, type TenantTransaction, type User, withUser } from '@repo/db'
import { announceAccessChange } from './access-changes.ts'
import { AppError, errors } from './app-error.ts'
import { recordAudit } from './audit.ts'
import type { CoreDeps, RequestMeta } from './context.ts'
import { mfaFailuresKey } from './lockout-keys.ts'
import {
  claimSignInAttempt,
  clearSignInFailures,
  rememberOwnerNetwork,
} from './sign-in-throttle.ts'

const CHALLENGE_TTL_MS = 5 * 60_000
const CHALLENGE_ATTEMPTS = 5
/** How recent a second-factor check must be for a sensitive action. */
export const STEP_UP_WINDOW_MS = 10 * 60_000

export interface SecondFactor {
  code?: string | undefined
  recoveryCode?: string | undefined
}

const invalidCode = () =>
  new AppError({
    code: 'invalid_mfa_code',
    status: 400,
    userMessage: 'The code is not valid.',
    fields: [{ field: 'body.code', message: 'is not valid' }],
  })

export async function hasMfa(deps: CoreDeps, userId: string): Promise<boolean> {
  return (await deps.db.mfaFactor.count({ where: { userId, confirmedAt: { not: null } } })) > 0
}

/** Starts TOTP enrolment: a new secret, encrypted at rest, to scan into an authenticator app. */
export async function setupTotp(
  deps: CoreDeps,
  input: { user: Pick<User, 'id' | 'email' | 'emailVerifiedAt'> },
) {
  // An unverified account may belong to someone squatting the address: no second factor
  // that would survive the real owner claiming it.
  if (!input.user.emailVerifiedAt) {
    throw errors.emailNotVerified('turning on two-factor authentication')
  }
  const existing = await deps.db.mfaFactor.findUnique({ where: { userId: input.user.id } })
  if (existing?.confirmedAt)
    throw errors.conflict('mfa_already_enabled', 'Two-factor authentication is already on.')
  const secret = newTotpSecret('Groundwork', input.user.email)
  const sealed = encryptSecret(secret.key, deps.secretsKey)
  await withUser(deps.db, input.user.id, (tx) =>
    tx.mfaFactor.upsert({
      where: { userId: input.user.id },
      create: { userId: input.user.id, secret: sealed },
      update: { secret: sealed, lastUsedStep: null },
    }),
  )
  return { secret: secret.base32, uri: secret.uri }
}

/**
 * Accepts a TOTP code or an unused recovery code for the user, consuming it: a TOTP step
 * at or below the last accepted one, and a used recovery code, are refused (no replay).
 */
export async function verifySecondFactor(
  deps: CoreDeps,
  userId: string,
  factor: SecondFactor,
): Promise<boolean> {
  if (factor.recoveryCode) {
    const codeHash = hashSecret(factor.recoveryCode.trim().toLowerCase())
    const { count } = await withUser(deps.db, userId, (tx) =>
      tx.recoveryCode.updateMany({
        where: { userId, codeHash, usedAt: null },
        data: { usedAt: new Date() },
      }),
    )
    return count === 1
  }
  const mfa = await deps.db.mfaFactor.findUnique({ where: { userId } })
  if (!mfa || !factor.code) return false
  const step = matchTotp(decryptSecret(mfa.secret, deps.secretsKey), factor.code.trim())
  if (step === null) return false
  const { count } = await withUser(deps.db, userId, (tx) =>
    tx.mfaFactor.updateMany({
      where: { userId, OR: [{ lastUsedStep: null }, { lastUsedStep: { lt: step } }] },
      data: { lastUsedStep: step },
    }),
  )
  return count === 1
}

/**
 * Completes enrolment with a first code: turns MFA on, issues ten recovery codes (shown
 * once, stored hashed), ends every session of the account and answers a new, MFA-verified
 * one (a privilege change gets a new session).
 */
export async function confirmTotp(
  deps: CoreDeps,
  input: { userId: string; sessionId: string; code: string },
  meta: RequestMeta = {},
) {
  const mfa = await deps.db.mfaFactor.findUnique({ where: { userId: input.userId } })
  if (!mfa) throw errors.notFound('A pending two-factor setup')
  if (mfa.confirmedAt)
    throw errors.conflict('mfa_already_enabled', 'Two-factor authentication is already on.')
  if (!(await verifySecondFactor(deps, input.userId, { code: input.code }))) throw invalidCode()
  const recoveryCodes = newRecoveryCodes()
  const { token } = await withUser(deps.db, input.userId, async (tx) => {
    await tx.mfaFactor.update({
      where: { userId: input.userId },
      data: { confirmedAt: new Date() },
    })
    await accountChanged(tx, input.userId)
    await tx.recoveryCode.deleteMany({ where: { userId: input.userId } })
    await tx.recoveryCode.createMany({
      data: recoveryCodes.map((code) => ({ userId: input.userId, codeHash: hashSecret(code) })),
    })
    // A privilege change: every session of the account ends, this one included (a new,
    // MFA-verified one replaces it), so a device signed in before MFA must sign in again.
    const { count } = await tx.session.deleteMany({ where: { userId: input.userId } })
    await recordAudit(tx, {
      action: 'mfa.enabled',
      actorUserId: input.userId,
      targetType: 'user',
      targetId: input.userId,
      ipAddress: meta.ipAddress,
      metadata: { sessionsRevoked: count },
    })
    return createSession(tx, deps.sessionPolicy, input.userId, { ...meta, mfaVerified: true })
  })
  await announceAccessChange(deps, { userIds: [input.userId] })
  return { token, recoveryCodes }
}

/** After a correct password for an account with MFA: a short-lived challenge instead of a session. */
export async function startMfaChallenge(deps: CoreDeps, userId: string): Promise<string> {
  const mfaToken = generateSecret()
  // Issued-at travels with the challenge: any change to the account after it (password,
  // reset, linking) voids it.
  await deps.redis.set(
    `groundwork:mfa:${hashSecret(mfaToken)}`,
    `${userId}:${Date.now()}`,
    'PX',
    CHALLENGE_TTL_MS,
  )
  return mfaToken
}

/**
 * Marks the account changed (its `updatedAt`): a sign-in challenge issued before dies, as
 * after a password change. Turning MFA on or off changes which factor a challenge is for.
 */
async function accountChanged(tx: TenantTransaction<'user'>, userId: string) {
  await tx.user.update({ where: { id: userId }, data: { updatedAt: new Date() } })
}

/** Finishes sign-in with the challenge and a second factor; at most five tries per challenge. */
export async function completeMfaChallenge(
  deps: CoreDeps,
  input: { mfaToken: string } & SecondFactor,
  meta: RequestMeta = {},
) {
  const key = `groundwork:mfa:${hashSecret(input.mfaToken)}`
  const stored = await deps.redis.get(key)
  const expired = new AppError({
    code: 'mfa_challenge_expired',
    status: 401,
    userMessage: 'Sign in again: this challenge has expired.',
  })
  if (!stored) throw expired
  const [userId = '', issuedAt = '0'] = stored.split(':')
  const account = await deps.db.user.findUnique({ where: { id: userId } })
  // A change in the very millisecond of the challenge voids it too: which came first is
  // unknowable, and signing in again is the safe side.
  if (!account || account.updatedAt.getTime() >= Number(issuedAt)) {
    await deps.redis.del(key)
    throw expired
  }
  const attempts = await deps.redis.incr(`${key}:attempts`)
  await deps.redis.pexpire(`${key}:attempts`, CHALLENGE_TTL_MS)
  if (attempts > CHALLENGE_ATTEMPTS) {
    await deps.redis.del(key, `${key}:attempts`)
    throw expired
  }
  const failures = mfaFailuresKey(userId)
  // Counted before the code is checked (atomically): parallel guesses cannot slip past.
  await claimSignInAttempt(deps.redis, failures)
  if (!(await verifySecondFactor(deps, userId, input))) {
    await withUser(deps.db, userId, (tx) =>
      recordAudit(tx, {
        action: 'mfa.failed',
        actorUserId: userId,
        targetType: 'user',
        targetId: userId,
        ipAddress: meta.ipAddress,
      }),
    )
    throw invalidCode()
  }
  await deps.redis.del(key, `${key}:attempts`)
  await clearSignInFailures(deps.redis, failures)
  // A challenge is issued only with a confirmed factor, and turning it off voids it.
  const user = { ...account, mfaEnabled: true }
  // The session and its audit entry commit together.
  const { token, session } = await withUser(deps.db, userId, async (tx) => {
    const created = await createSession(tx, deps.sessionPolicy, userId, {
      ...meta,
      mfaVerified: true,
    })
    await recordAudit(tx, {
      action: 'user.signed_in',
      actorUserId: userId,
      targetType: 'session',
      targetId: created.session.id,
      ipAddress: meta.ipAddress,
      metadata: { mfa: true },
    })
    return created
  })
  await rememberOwnerNetwork(deps, user.email, meta)
  return { user, token, session }
}

/** Re-checks the second factor for the current session, opening the step-up window. */
export async function stepUp(
  deps: CoreDeps,
  input: { userId: string; sessionId: string; password?: string | undefined } & SecondFactor,
  meta: RequestMeta = {},
) {
  // Second-factor guesses share one exponential backoff per user, sign-in and step-up alike.
  const failures = mfaFailuresKey(input.userId)
  await claimSignInAttempt(deps.redis, failures)
  const withMfa = await hasMfa(deps, input.userId)
  const ok = withMfa
    ? await verifySecondFactor(deps, input.userId, input)
    : input.password !== undefined &&
      (await verifyPassword(
        (
          await deps.db.user.findUnique({ where: { id: input.userId } })
        )?.passwordHash,
        input.password,
      ))
  if (!ok) {
    await withUser(deps.db, input.userId, (tx) =>
      recordAudit(tx, {
        action: 'mfa.step_up_failed',
        actorUserId: input.userId,
        targetType: 'user',
        targetId: input.userId,
        ipAddress: meta.ipAddress,
      }),
    )
    throw invalidCode()
  }
  await clearSignInFailures(deps.redis, failures)
  await withUser(deps.db, input.userId, (tx) =>
    tx.session.update({ where: { id: input.sessionId }, data: { mfaVerifiedAt: new Date() } }),
  )
  // The step-up is on the session: an instance holding the old copy would ask again.
  await announceAccessChange(deps, { userIds: [input.userId] })
}

/**
 * For sensitive actions (ownership, members, invitations, keys, MFA settings, deleting):
 * proof of presence within the last ten minutes. With MFA: a second factor (sign-in with
 * MFA, or a step-up). Without: a fresh sign-in, or a step-up with the password. A stolen
 * session token alone is not enough.
 */
export async function requireRecentAuth(
  deps: CoreDeps,
  input: { userId: string; session: Pick<Session, 'mfaVerifiedAt' | 'createdAt'> },
) {
  const now = Date.now()
  const steppedUpAt = input.session.mfaVerifiedAt?.getTime() ?? 0
  if (await hasMfa(deps, input.userId)) {
    if (now - steppedUpAt <= STEP_UP_WINDOW_MS) return
  } else if (now - Math.max(steppedUpAt, input.session.createdAt.getTime()) <= STEP_UP_WINDOW_MS) {
    return
  }
  throw new AppError({
    code: 'step_up_required',
    status: 403,
    userMessage:
      'Confirm it is you first: POST /v1/auth/mfa/step-up with your code (or password, without two-factor).',
  })
}

/** Turns MFA off (requires a recent second factor). */
export async function disableMfa(
  deps: CoreDeps,
  input: {
    userId: string
    session: Pick<Session, 'id' | 'mfaVerifiedAt' | 'createdAt'>
  },
  meta: RequestMeta = {},
) {
  await requireRecentAuth(deps, input)
  await withUser(deps.db, input.userId, async (tx) => {
    const { count } = await tx.mfaFactor.deleteMany({ where: { userId: input.userId } })
    if (count === 0) throw errors.notFound('Two-factor authentication')
    await accountChanged(tx, input.userId)
    await tx.recoveryCode.deleteMany({ where: { userId: input.userId } })
    // A security downgrade ends every other session; the caller, who just proved a second
    // factor, stays signed in.
    const { count: sessionsRevoked } = await tx.session.deleteMany({
      where: { userId: input.userId, id: { not: input.session.id } },
    })
    await recordAudit(tx, {
      action: 'mfa.disabled',
      actorUserId: input.userId,
      targetType: 'user',
      targetId: input.userId,
      ipAddress: meta.ipAddress,
      metadata: { sessionsRevoked },
    })
  })
  await announceAccessChange(deps, { userIds: [input.userId] })
}
