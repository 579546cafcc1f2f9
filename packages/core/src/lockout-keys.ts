import { hashSecret } from '@repo/auth'

/**
 * Where the counters that hold people back live in Redis, named in one place: the code
 * that counts and the operator's `pnpm ops unblock` (clear-lockouts.ts) use the same
 * names. Sign-in's own throttles are in sign-in-throttle.ts.
 */

/** Every API rate-limit counter (rate-limiter-flexible, apps/api's rate-limit plugin). */
export const RATE_LIMIT_KEY_PREFIX = 'groundwork:rl:'

/**
 * The rate-limit counters of one subject in one tier, every bucket: the plugin's key is
 * `<prefix><tier>:<bucket>:<limit>:` and the library appends `:<subject>`. As a SCAN
 * pattern (glob characters in the subject escaped).
 */
export const rateLimitKeyPattern = (tier: 'ip' | 'user' | 'organization', subject: string) =>
  `${RATE_LIMIT_KEY_PREFIX}${tier}:*::${subject.replace(/[*?[\]\\]/g, '\\$&')}`

/** Second-factor failures of one user (sign-in and step-up share the backoff). */
export const mfaFailuresKey = (userId: string) => `groundwork:mfa-fail:${userId}`

/** Password-reset emails asked for one account from one client network. */
export const resetRequestsKey = (email: string, network: string) =>
  `groundwork:reset:${hashSecret(`${email}\n${network}`).slice(0, 32)}`

/** Verification emails a user had sent again (five an hour). */
export const verificationResendsKey = (userId: string) => `groundwork:verify-resend:${userId}`
