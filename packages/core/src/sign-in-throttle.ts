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
}

const FREE_FAILURES = 5
const MAX_DELAY_MS = 15 * 60_000
const FORGET_AFTER_MS = 24 * 3_600_000

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

export async function assertSignInAllowed(
  store: ThrottleStore,
  key: string,
  now = Date.now(),
): Promise<void> {
  const until = Number(await store.get(`${key}:until`))
  if (until > now) {
    const seconds = Math.ceil((until - now) / 1000)
    throw new AppError({
      code: 'sign_in_throttled',
      status: 429,
      userMessage: `Too many failed sign-ins. Try again in ${seconds} seconds.`,
      retryAfterSeconds: seconds,
    })
  }
}

export async function recordSignInFailure(
  store: ThrottleStore,
  key: string,
  now = Date.now(),
): Promise<void> {
  const failures = await store.incr(`${key}:count`)
  await store.pexpire(`${key}:count`, FORGET_AFTER_MS)
  if (failures > FREE_FAILURES) {
    const delay = Math.min(1000 * 2 ** (failures - FREE_FAILURES - 1), MAX_DELAY_MS)
    await store.set(`${key}:until`, String(now + delay), 'PX', delay)
  }
}

export async function clearSignInFailures(store: ThrottleStore, key: string): Promise<void> {
  await store.del(`${key}:count`, `${key}:until`)
}
