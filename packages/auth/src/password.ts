import { hash, verify } from '@node-rs/argon2'
import { dictionary } from '@zxcvbn-ts/language-common'

/** NIST SP 800-63B: a floor on length, a generous ceiling, no composition rules. */
export const PASSWORD_MIN_LENGTH = 10
export const PASSWORD_MAX_LENGTH = 128

// OWASP Password Storage Cheat Sheet minimum for Argon2id: 19 MiB, 2 iterations, 1 lane.
// algorithm 2 is Argon2id (@node-rs/argon2 declares it as a const enum, which erasable
// TypeScript cannot import).
export const ARGON2ID = { algorithm: 2, memoryCost: 19_456, timeCost: 2, parallelism: 1 } as const

// ~49,000 passwords seen most often in breaches (zxcvbn's list), compared case-insensitively.
const COMMON = new Set((dictionary['passwords-common'] as string[]).map((p) => p.toLowerCase()))

/** Why a password is not acceptable, or undefined when it is. */
export function passwordProblem(
  password: string,
  context: { email?: string } = {},
): string | undefined {
  const length = [...password].length
  if (length < PASSWORD_MIN_LENGTH) return `must be at least ${PASSWORD_MIN_LENGTH} characters`
  if (length > PASSWORD_MAX_LENGTH) return `must be at most ${PASSWORD_MAX_LENGTH} characters`
  const lower = password.toLowerCase()
  if (COMMON.has(lower)) return 'is one of the most common passwords; choose another'
  const local = context.email?.split('@')[0]?.toLowerCase()
  if (local && local.length >= 4 && lower.includes(local))
    return 'must not contain your email address'
  return undefined
}

export function hashPassword(password: string): Promise<string> {
  return hash(password, ARGON2ID)
}

// Verified against when the account does not exist, so a miss costs what a hit costs.
const dummyHash = hash('groundwork-timing-equaliser', ARGON2ID)

/**
 * Checks a password against a stored hash. With no hash (unknown email, OAuth-only
 * account) it still runs one Argon2id verification, so the answer's timing does not
 * reveal whether the account exists.
 */
export async function verifyPassword(
  storedHash: string | null | undefined,
  password: string,
): Promise<boolean> {
  try {
    const ok = await verify(storedHash ?? (await dummyHash), password)
    return ok && Boolean(storedHash)
  } catch {
    return false
  }
}
