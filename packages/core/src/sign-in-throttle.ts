import { createHash } from 'node:crypto'
import { AppError } from './app-error.ts'

/** The part of a Redis client the throttle uses. */
export interface ThrottleStore {
  get(key: string): Promise<string | null>
  getdel(key: string): Promise<string | null>
  incr(key: string): Promise<number>
  pexpire(key: string, ms: number): Promise<number>
  set(key: string, value: string, mode: 'PX', ms: number): Promise<unknown>
  del(...keys: string[]): Promise<number>
  eval(script: string, numKeys: number, ...args: (string | number)[]): Promise<unknown>
}

export interface ThrottlePolicy {
  /** Failures allowed before any wait. */
  free: number
  /** The longest wait; it doubles from 1 s up to this. */
  maxDelayMs: number
}

/** Per account and client address: the attacker's own address slows down, hard. */
export const ADDRESS_POLICY: ThrottlePolicy = { free: 5, maxDelayMs: 15 * 60_000 }
/**
 * Per account across all addresses (guessing from rotating addresses): more room, and a
 * short cap, so nobody can lock the owner out for long; from a network the account
 * signed in from before, this one does not apply at all.
 */
export const ACCOUNT_POLICY: ThrottlePolicy = { free: 20, maxDelayMs: 60_000 }
const FORGET_AFTER_MS = 24 * 3_600_000
const KNOWN_FOR_MS = 90 * 24 * 3_600_000

const hashed = (value: string) => createHash('sha256').update(value).digest('hex').slice(0, 32)

/** The account-wide counter of failed sign-ins (every address together). */
export function accountThrottleKey(email: string): string {
  return `groundwork:signin-account:${hashed(email.trim().toLowerCase())}`
}

const knownKey = (email: string, network: string) =>
  `groundwork:signin-known:${hashed(`${email.trim().toLowerCase()}\n${network}`)}`

/** Whether the account has signed in from this network (within 90 days): its owner's device. */
export async function isKnownNetwork(store: ThrottleStore, email: string, network: string) {
  return (await store.get(knownKey(email, network))) !== null
}

export async function rememberNetwork(store: ThrottleStore, email: string, network: string) {
  await store.set(knownKey(email, network), '1', 'PX', KNOWN_FOR_MS)
}

/**
 * After the owner proved it is them (a full sign-in with every factor, an OAuth sign-in,
 * a completed password reset): their network is known from now on, and the account-wide
 * throttle no longer applies there. Best effort: Redis trouble is logged.
 */
export async function rememberOwnerNetwork(
  deps: { redis: ThrottleStore; logger: { warn(details: object, message: string): void } },
  email: string,
  meta: { clientNetwork?: string | undefined; ipAddress?: string | undefined },
) {
  const network = meta.clientNetwork ?? meta.ipAddress
  if (!network) return
  await rememberNetwork(deps.redis, email, network).catch((err: unknown) =>
    deps.logger.warn({ err }, 'sign-in throttle unavailable'),
  )
}

/**
 * Slows password guessing exponentially without locking the real user out: failures are
 * counted per account *and* client IP, so an attacker elsewhere only slows themselves.
 * After 5 failures each attempt must wait 1 s, 2 s, 4 s ... up to 15 minutes; a success
 * clears the count.
 */
export function signInThrottleKey(email: string, ipAddress: string | undefined): string {
  const id = createHash('sha256')
    .update(`${email.trim().toLowerCase()}\n${ipAddress ?? ''}`)
    .digest('hex')
    .slice(0, 32)
  return `groundwork:signin:${id}`
}

/** The Redis keys of one throttle: its failure count and the end of its current wait. */
export const throttleKeys = (key: string) => [`${key}:count`, `${key}:until`]

/**
 * Checks and counts one attempt in a single step (a Lua script, atomic in Redis): refused
 * while a wait is running; otherwise counted as a failure before the password or code is
 * even checked (a success clears the count), and past `free` the next attempt must wait
 * 1 s, 2 s, 4 s ... up to `maxDelayMs`. Checking and counting as two steps would let a
 * burst of parallel guesses all pass the check before the first failure was counted.
 */
const CLAIM_ATTEMPT = `
local now = tonumber(ARGV[1])
local waitUntil = tonumber(redis.call('GET', KEYS[2]) or '0')
if waitUntil > now then return waitUntil end
local failures = redis.call('INCR', KEYS[1])
redis.call('PEXPIRE', KEYS[1], ARGV[4])
local free = tonumber(ARGV[2])
if failures > free then
  local delay = math.min(1000 * 2 ^ (failures - free - 1), tonumber(ARGV[3]))
  redis.call('SET', KEYS[2], tostring(now + delay), 'PX', math.floor(delay))
end
return 0`

export async function claimSignInAttempt(
  store: ThrottleStore,
  key: string,
  policy: ThrottlePolicy = ADDRESS_POLICY,
  now = Date.now(),
): Promise<void> {
  const waitUntil = Number(
    await store.eval(
      CLAIM_ATTEMPT,
      2,
      ...throttleKeys(key),
      now,
      policy.free,
      policy.maxDelayMs,
      FORGET_AFTER_MS,
    ),
  )
  if (waitUntil > now) {
    const seconds = Math.ceil((waitUntil - now) / 1000)
    throw new AppError({
      code: 'sign_in_throttled',
      status: 429,
      userMessage: `Too many failed sign-ins. Try again in ${seconds} seconds.`,
      retryAfterSeconds: seconds,
    })
  }
}

/**
 * Gives back an attempt `claimSignInAttempt` counted, when a later check refused it before
 * any password was verified (the account-wide wait): it was no guess.
 */
export async function refundSignInAttempt(store: ThrottleStore, key: string): Promise<void> {
  await store.eval(
    `if tonumber(redis.call('GET', KEYS[1]) or '0') > 0 then redis.call('DECR', KEYS[1]) end return 0`,
    1,
    `${key}:count`,
  )
}

export async function clearSignInFailures(store: ThrottleStore, key: string): Promise<void> {
  await store.del(...throttleKeys(key))
}
