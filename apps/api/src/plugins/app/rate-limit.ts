import { AppError, clientNetwork, RATE_LIMIT_KEY_PREFIX } from '@repo/core'
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import fp from 'fastify-plugin'
import pTimeout from 'p-timeout'
import { RateLimiterMemory, RateLimiterRes } from 'rate-limiter-flexible'
import { type CounterState, RateLimitCounters } from '../../lib/rate-limit-counters.ts'
import {
  setRateLimitHeaders,
  type TierCount,
  type TierRefusal,
} from '../../lib/ratelimit-headers.ts'

/**
 * Requests per minute a route allows, per tier. A number gives the route a bucket of its
 * own with that size; `false` turns the tier off; unset uses the shared default bucket
 * (RATE_LIMIT_*_PER_MINUTE), which every route without its own counts against.
 */
export interface RouteLimits {
  ip?: number | false
  user?: number | false
  organization?: number | false
  /**
   * Routes naming the same bucket count together (invitations and their resends); by
   * default each route with its own numbers has buckets of its own. A named bucket counts
   * what its routes did: a request they refuse (4xx other than 429: invalid, not allowed,
   * a duplicate) gives its user and organization points back.
   */
  bucket?: string
}

/**
 * The caller of a request, named before rate limits are counted (the access plugin's
 * onRequest, when the session and membership are in its in-process copy and the route's
 * rule passes): then every tier is counted at once, in onRequest.
 */
export interface KnownCaller {
  /** The user tier's subject: `user:<id>` or `key:<id>`. */
  caller: string
  organizationId?: string
}

type Tier = 'ip' | 'user' | 'organization'
const WINDOW_SECONDS = 60
/** Past this, a request does not wait for Redis to count it (a frozen Redis answers never). */
const LIMITER_TIMEOUT_MS = 200
/**
 * What a Redis call that missed LIMITER_TIMEOUT_MS fails with: one error made once, since
 * p-timeout otherwise builds one (and captures its stack) for every call, in case. Shared
 * by every request, so it is only logged (its stack is this module's): never mutate it or
 * report it to Sentry, which would mark it captured and drop every later report of it.
 */
class LimiterTimeout extends Error {
  override name = 'LimiterTimeout'
}
const LIMITER_TIMED_OUT = new LimiterTimeout(`Redis did not answer within ${LIMITER_TIMEOUT_MS} ms`)
/**
 * A subject this many times over a limit is refused from memory, without asking Redis,
 * until its window ends: a flood costs this instance a map lookup, not a round trip.
 */
const BLOCK_AT_TIMES_LIMIT = 2
/** At most one line a minute says that limits are counted in memory. */
const FALLBACK_LOG_INTERVAL_MS = 60_000
/**
 * The tiers whose points can come back (from a refused request, from a named bucket's
 * 4xx). The per-address one never does, so refused requests (a bad token, another
 * tenant's id) still count against it.
 */
const GIVEN_BACK: ReadonlySet<Tier> = new Set(['user', 'organization'])
const WHO: Record<Tier, string> = {
  ip: 'from your address',
  user: 'for your account',
  organization: 'for this organization',
}

/** One tier a request counts against: its bucket's size, and the subject's counter. */
interface Check {
  tier: Tier
  limit: number
  /** `<tier>:<default or route or named bucket>:<limit>:` */
  bucket: string
  subject: string
  /** The Redis key: RATE_LIMIT_KEY_PREFIX, the bucket, `:`, the subject (see core). */
  key: string
  /** Whether its point comes back when the request is refused (GIVEN_BACK). */
  refundable: boolean
}

type Counted = TierCount<Tier>
type Refusal = TierRefusal<Tier>

/** What a request took from the tiers that give points back, and where it was counted. */
interface Taken {
  store: 'redis' | 'memory'
  checks: Check[]
}

/**
 * Rate limits on every route, counted in Redis so every API instance shares them
 * (docs/decisions/008, 036): per client IP before any other work, and per user or API key
 * and per organization once the caller is known. All the tiers counted at one point go to
 * Redis in one call (a script: lib/rate-limit-counters.ts): in onRequest the address
 * alone, or every tier when the caller is already known (`request.knownCaller`); else the
 * user and organization in preValidation, after the access check. Answers carry
 * RateLimit-Limit/-Remaining/-Reset for the tightest tier and RateLimit-Policy for all
 * (draft-ietf-httpapi-ratelimit-headers-06); over a limit: 429 problem+json with
 * Retry-After. If Redis fails or takes longer than 200 ms, in-memory limiters per
 * instance count instead, so limits loosen (per instance) but never vanish, and a frozen
 * Redis does not slow every request.
 */
export default fp(
  async function rateLimits(fastify: FastifyInstance) {
    fastify.decorateRequest('knownCaller', null)
    const defaults: Record<Tier, number> = {
      ip: fastify.config.RATE_LIMIT_IP_PER_MINUTE,
      user: fastify.config.RATE_LIMIT_USER_PER_MINUTE,
      organization: fastify.config.RATE_LIMIT_ORG_PER_MINUTE,
    }
    const counters = new RateLimitCounters(fastify.redis, WINDOW_SECONDS * 1000)
    /** Per bucket: what counts while Redis cannot. */
    const local = new Map<string, RateLimiterMemory>()
    /** Redis keys of subjects far over their limit, and until when (epoch ms) to refuse them. */
    const blocked = new Map<string, number>()
    let fallbackLoggedAt = Number.NEGATIVE_INFINITY
    /** Requests whose every tier was counted in onRequest. */
    const fullyCounted = new WeakSet<FastifyRequest>()
    /** What named-bucket requests took, to give back if the route refuses them. */
    const taken = new WeakMap<FastifyRequest, Taken>()

    function checksFor(request: FastifyRequest, tiers: Array<[Tier, string | undefined]>) {
      const own = request.routeOptions.config?.limits ?? {}
      const route = `${request.method}:${request.routeOptions.url ?? '*'}`
      return tiers.flatMap(([tier, subject]): Check[] => {
        const setting = own[tier]
        if (setting === false || subject === undefined) return []
        const limit = setting ?? defaults[tier]
        const bucket = `${tier}:${setting === undefined ? 'default' : (own.bucket ?? route)}:${limit}:`
        const key = `${RATE_LIMIT_KEY_PREFIX}${bucket}:${subject}`
        return [{ tier, limit, bucket, subject, key, refundable: GIVEN_BACK.has(tier) }]
      })
    }

    function localLimiter(check: Check) {
      let limiter = local.get(check.bucket)
      if (!limiter) {
        limiter = new RateLimiterMemory({ points: check.limit, duration: WINDOW_SECONDS })
        local.set(check.bucket, limiter)
      }
      return limiter
    }

    /** Counts in this instance's memory, as the Redis script does: all or nothing. */
    async function countInMemory(checks: Check[]): Promise<CounterState[]> {
      const settled = await Promise.allSettled(
        checks.map((check) => localLimiter(check).consume(check.subject)),
      )
      const states = settled.map((outcome) => {
        const res = outcome.status === 'fulfilled' ? outcome.value : outcome.reason
        if (!(res instanceof RateLimiterRes)) throw res
        return { count: res.consumedPoints, msBeforeReset: res.msBeforeNext }
      })
      if (states.some((state, i) => state.count > (checks[i] as Check).limit)) {
        const refunded = checks.filter(
          (check, i) => check.refundable && (states[i] as CounterState).count <= check.limit,
        )
        await Promise.all(refunded.map((check) => localLimiter(check).reward(check.subject)))
      }
      return states
    }

    /** Counts in Redis within LIMITER_TIMEOUT_MS, else in memory. */
    async function countChecks(request: FastifyRequest, checks: Check[]) {
      try {
        const states = await pTimeout(counters.count(checks), {
          milliseconds: LIMITER_TIMEOUT_MS,
          message: LIMITER_TIMED_OUT,
        })
        return { states, store: 'redis' as const }
      } catch (err) {
        if (Date.now() - fallbackLoggedAt >= FALLBACK_LOG_INTERVAL_MS) {
          fallbackLoggedAt = Date.now()
          request.log.warn({ err }, 'rate limits counted in memory: Redis failed or was slow')
        }
        return { states: await countInMemory(checks), store: 'memory' as const }
      }
    }

    /** The tier of these checks that refuses from memory without asking Redis, if any. */
    function blockedTier(checks: Check[], now: number): Refusal | undefined {
      let refused: Refusal | undefined
      for (const { tier, limit, key } of checks) {
        const until = blocked.get(key)
        if (until === undefined) continue
        if (until <= now) {
          blocked.delete(key)
          continue
        }
        const seconds = Math.ceil((until - now) / 1000)
        if (!refused || seconds > refused.seconds)
          refused = { tier, limit, remaining: 0, msBeforeReset: until - now, seconds }
      }
      return refused
    }

    function block(key: string, until: number, now: number) {
      blocked.set(key, until)
      if (blocked.size > 1_000)
        for (const [other, end] of blocked) if (end <= now) blocked.delete(other)
    }

    async function count(
      request: FastifyRequest,
      reply: FastifyReply,
      tiers: Array<[Tier, string | undefined]>,
    ) {
      const checks = checksFor(request, tiers)
      if (checks.length === 0) return
      const now = Date.now()
      let refused = blockedTier(checks, now)
      let counted: Counted[] = []
      if (!refused) {
        const { states, store } = await countChecks(request, checks)
        counted = checks.map(({ tier, limit, key }, i) => {
          const { count, msBeforeReset } = states[i] as CounterState
          const result = { tier, limit, remaining: Math.max(0, limit - count), msBeforeReset }
          if (count > limit) {
            const seconds = Math.max(1, Math.ceil(msBeforeReset / 1000))
            if (!refused || seconds > refused.seconds) refused = { ...result, seconds }
            if (store === 'redis' && count >= limit * BLOCK_AT_TIMES_LIMIT)
              block(key, now + msBeforeReset, now)
          }
          return result
        })
        const own = request.routeOptions.config?.limits
        const kept = checks.filter((check) => check.refundable)
        if (!refused && own?.bucket && kept.length > 0) taken.set(request, { store, checks: kept })
      }
      setRateLimitHeaders(reply, WINDOW_SECONDS, checks, counted, refused)
      if (refused) {
        // Refused by one tier, the request did nothing: the other tiers' user and
        // organization points came back in the same step, so one caller over their own
        // limit does not use up their organization's.
        fastify.metrics.rateLimited(refused.tier)
        throw new AppError({
          code: 'rate_limited',
          status: 429,
          userMessage: `Too many requests ${WHO[refused.tier]}. Try again in ${refused.seconds} seconds.`,
          retryAfterSeconds: refused.seconds,
        })
      }
    }

    async function giveBack({ store, checks }: Taken) {
      if (store === 'memory') {
        await Promise.allSettled(checks.map((check) => localLimiter(check).reward(check.subject)))
        return
      }
      await pTimeout(counters.giveBack(checks.map((check) => check.key)), {
        milliseconds: LIMITER_TIMEOUT_MS,
        message: LIMITER_TIMED_OUT,
      }).catch(() => {
        // Redis failed: the points stay taken until the window ends (a stricter limit).
      })
    }

    // Per address first, before authentication or any parsing work; every tier at once
    // when the access check already knows the caller (it is registered earlier).
    fastify.addHook('onRequest', async (request, reply) => {
      // An IPv6 client counts as its /64 (RATE_LIMIT_IPV6_PREFIX): one host, one key.
      const ip = clientNetwork(request.ip, fastify.config.RATE_LIMIT_IPV6_PREFIX)
      const known = request.knownCaller
      if (!known) return count(request, reply, [['ip', ip]])
      await count(request, reply, [
        ['ip', ip],
        ['user', known.caller],
        ['organization', known.organizationId],
      ])
      fullyCounted.add(request)
    })
    // After the access check (registered earlier) has named the caller and organization.
    fastify.addHook('preValidation', async (request, reply) => {
      if (fullyCounted.has(request)) return
      const caller = request.apiKey
        ? `key:${request.apiKey.id}`
        : request.auth
          ? `user:${request.auth.userId}`
          : undefined
      await count(request, reply, [
        ['user', caller],
        ['organization', request.tenant?.organizationId],
      ])
    })
    // A named bucket's request that was refused (4xx, not 429) did nothing: points back.
    fastify.addHook('onResponse', async (request, reply) => {
      const points = taken.get(request)
      if (points && reply.statusCode >= 400 && reply.statusCode < 500 && reply.statusCode !== 429)
        await giveBack(points)
    })
  },
  { name: 'rate-limit', dependencies: ['redis', 'access', 'metrics'] },
)

declare module 'fastify' {
  interface FastifyContextConfig {
    /** This route's own limits per minute (see RouteLimits). */
    limits?: RouteLimits
  }
  interface FastifyRequest {
    /**
     * Set by the access plugin's onRequest when it has named the caller from memory:
     * then rate limits count every tier in onRequest, in one Redis call. Null otherwise.
     */
    knownCaller: KnownCaller | null
  }
}
