import { hash, verify } from '@node-rs/argon2'
import { PASSWORD_MAX_LENGTH, PASSWORD_MIN_LENGTH } from '@repo/schemas'
import { dictionary } from '@zxcvbn-ts/language-common'
import pLimit, { type LimitFunction } from 'p-limit'

// The bounds live with the input schemas, so the web app's forms read the same numbers.
export { PASSWORD_MAX_LENGTH, PASSWORD_MIN_LENGTH }

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

/**
 * Argon2id runs on libuv's thread pool, which dns.lookup and fs share: unbounded, a burst
 * of sign-ins would occupy every thread and stall everything else. At most `concurrency`
 * hashes run at once, at most `maxQueued` wait; past that, PasswordHashingBusyError (the
 * API answers 503 with Retry-After) instead of an ever longer queue. The apps configure it
 * at start (PASSWORD_HASH_CONCURRENCY, PASSWORD_HASH_QUEUE) and size the thread pool
 * above it.
 */
let slots: LimitFunction = pLimit(2)
let maxQueued = 32

export function configurePasswordHashing(options: { concurrency: number; maxQueued: number }) {
  slots = pLimit(options.concurrency)
  maxQueued = options.maxQueued
}

export class PasswordHashingBusyError extends Error {
  override name = 'PasswordHashingBusyError'
  constructor() {
    super('too many password checks at once')
  }
}

function inSlot<T>(work: () => Promise<T>): Promise<T> {
  if (slots.pendingCount >= maxQueued) return Promise.reject(new PasswordHashingBusyError())
  return slots(work)
}

export function hashPassword(password: string): Promise<string> {
  return inSlot(() => hash(password, ARGON2ID))
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
  const against = storedHash ?? (await dummyHash)
  try {
    const ok = await inSlot(() => verify(against, password))
    return ok && Boolean(storedHash)
  } catch (error) {
    if (error instanceof PasswordHashingBusyError) throw error
    return false
  }
}
