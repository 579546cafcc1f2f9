import { withNoContext } from '@repo/db'
import type { OperatorActor } from './actor.ts'
import { recordAudit } from './audit.ts'
import type { CoreDeps } from './context.ts'
import {
  mfaFailuresKey,
  rateLimitKeyPattern,
  resetRequestsKey,
  verificationResendsKey,
} from './lockout-keys.ts'
import { accountThrottleKey, signInThrottleKey, throttleKeys } from './sign-in-throttle.ts'

/** The part of a Redis client clearing lockouts needs. */
export interface LockoutStore {
  del(...keys: string[]): Promise<number>
  scan(
    cursor: string,
    match: 'MATCH',
    pattern: string,
    count: 'COUNT',
    howMany: number,
  ): Promise<[cursor: string, keys: string[]]>
}

/** Whose counters to clear: a user, a client network (an IPv4 address or an IPv6 /64), or both. */
export interface LockoutTarget {
  user?: { id: string; email: string } | undefined
  /** As the API counts it: clientNetwork(address, RATE_LIMIT_IPV6_PREFIX). */
  network?: string | undefined
}

interface Counter {
  /** What a person was refused because of it, for the operator's report. */
  what: string
  keys: string[]
  patterns?: string[]
}

function countersOf(target: LockoutTarget): Counter[] {
  const { user, network } = target
  const counters: Counter[] = []
  if (user)
    counters.push(
      {
        what: 'sign-in throttle (every address)',
        keys: throttleKeys(accountThrottleKey(user.email)),
      },
      { what: 'second-factor backoff', keys: throttleKeys(mfaFailuresKey(user.id)) },
      { what: 'verification email resends', keys: [verificationResendsKey(user.id)] },
      {
        what: 'rate limits of the user',
        keys: [],
        patterns: [rateLimitKeyPattern('user', `user:${user.id}`)],
      },
    )
  if (user && network)
    counters.push(
      {
        what: `sign-in throttle (from ${network})`,
        keys: throttleKeys(signInThrottleKey(user.email, network)),
      },
      {
        what: `password-reset requests (from ${network})`,
        keys: [resetRequestsKey(user.email, network)],
      },
    )
  if (network)
    counters.push({
      what: `rate limits of ${network}`,
      keys: [],
      patterns: [rateLimitKeyPattern('ip', network)],
    })
  return counters
}

async function scanAll(redis: LockoutStore, pattern: string): Promise<string[]> {
  const found: string[] = []
  let cursor = '0'
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', pattern, 'COUNT', 1_000)
    found.push(...keys)
    cursor = next
  } while (cursor !== '0')
  return found
}

/**
 * Lifts what holds a person back right now, for an operator ("unblock this user"): the
 * sign-in throttles (per account, and per address when `network` is given), the
 * second-factor backoff, the resend and reset counters, and the API's rate-limit counters
 * of the user and of the network. Returns what was cleared; clearing nothing records
 * nothing. The Redis deletes run inside the audit entry's transaction: with Postgres down
 * nothing is cleared unrecorded.
 */
export async function clearLockouts(
  deps: Pick<CoreDeps, 'db'> & { redis: LockoutStore },
  actor: OperatorActor,
  target: LockoutTarget,
): Promise<{ cleared: string[] }> {
  return withNoContext(deps.db, async (tx) => {
    const cleared: string[] = []
    for (const counter of countersOf(target)) {
      const keys = [...counter.keys]
      for (const pattern of counter.patterns ?? [])
        keys.push(...(await scanAll(deps.redis, pattern)))
      if (keys.length > 0 && (await deps.redis.del(...keys)) > 0) cleared.push(counter.what)
    }
    if (cleared.length > 0)
      await recordAudit(tx, {
        action: 'lockouts.cleared',
        actorOperator: actor.operator,
        ...(target.user
          ? { targetType: 'user', targetId: target.user.id }
          : { targetType: 'address', targetId: target.network ?? '' }),
        metadata: { cleared, ...(target.network ? { network: target.network } : {}) },
      })
    return { cleared }
  })
}
