import { AppError, clientNetwork, RATE_LIMIT_KEY_PREFIX } from '@repo/core'
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import fp from 'fastify-plugin'
import {
  RateLimiterMemory,
  RateLimiterRedis,
  RateLimiterRes,
  RLWrapperTimeouts,
} from 'rate-limiter-flexible'

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

type Tier = 'ip' | 'user' | 'organization'
const WINDOW_SECONDS = 60
/** Past this, a request does not wait for Redis to count it (a frozen Redis answers never). */
const LIMITER_TIMEOUT_MS = 200
const WHO: Record<Tier, string> = {
  ip: 'from your address',
  user: 'for your account',
  organization: 'for this organization',
}

interface Counted {
  tier: Tier
  limit: number
  result: RateLimiterRes
}

/**
 * Rate limits on every route, counted in Redis so every API instance shares them
 * (rate-limiter-flexible; docs/decisions/008): per client IP before any other work, then
 * per user or API key and per organization once the caller is known. Answers carry
 * RateLimit-Limit/-Remaining/-Reset for the tightest tier and RateLimit-Policy for all
 * (draft-ietf-httpapi-ratelimit-headers-06);
 * over a limit: 429 problem+json with Retry-After. If Redis fails or takes longer than
 * 200 ms, an in-memory limiter per instance counts instead, so limits loosen (per
 * instance) but never vanish, and a frozen Redis does not slow every request.
 */
export default fp(
  async function rateLimits(fastify: FastifyInstance) {
    const defaults: Record<Tier, number> = {
      ip: fastify.config.RATE_LIMIT_IP_PER_MINUTE,
      user: fastify.config.RATE_LIMIT_USER_PER_MINUTE,
      organization: fastify.config.RATE_LIMIT_ORG_PER_MINUTE,
    }
    const limiters = new Map<string, RLWrapperTimeouts>()
    let warned = false
    /** What each request took from the user and organization tiers, to give back. */
    const taken = new WeakMap<
      FastifyRequest,
      Array<{ limiter: RLWrapperTimeouts; subject: string }>
    >()
    const giveBack = (points: Array<{ limiter: RLWrapperTimeouts; subject: string }>) =>
      Promise.allSettled(points.map(({ limiter, subject }) => limiter.reward(subject, 1)))

    /**
     * A bucket's limiter: counted in Redis, or in memory per instance when Redis fails or
     * has not answered within LIMITER_TIMEOUT_MS (the library's timeout wrapper, with the
     * in-memory limiter as its insurance).
     */
    function limiterFor(bucket: string, points: number) {
      let limiter = limiters.get(bucket)
      if (!limiter) {
        const local = new RateLimiterMemory({ points, duration: WINDOW_SECONDS })
        const shared = new RateLimiterRedis({
          storeClient: fastify.redis,
          keyPrefix: `${RATE_LIMIT_KEY_PREFIX}${bucket}`,
          points,
          duration: WINDOW_SECONDS,
          // A caller far over the limit is refused from memory, without asking Redis.
          inMemoryBlockOnConsumed: points * 2,
          inMemoryBlockDuration: WINDOW_SECONDS,
          insuranceLimiter: local,
        })
        limiter = new RLWrapperTimeouts({
          limiter: shared,
          insuranceLimiter: local,
          timeoutMs: LIMITER_TIMEOUT_MS,
        })
        limiters.set(bucket, limiter)
      }
      return limiter
    }

    async function count(
      request: FastifyRequest,
      reply: FastifyReply,
      tiers: Array<[Tier, string | undefined]>,
      /** Keep what was taken, to give it back if the route refuses the request. */
      keep = false,
    ) {
      const own = request.routeOptions.config?.limits ?? {}
      const route = `${request.method}:${request.routeOptions.url ?? '*'}`
      const checks = tiers.flatMap(([tier, subject]) => {
        const setting = own[tier]
        if (setting === false || subject === undefined) return []
        const limit = setting ?? defaults[tier]
        const bucket =
          setting === undefined ? `${tier}:default:` : `${tier}:${own.bucket ?? route}:`
        const limiter = limiterFor(`${bucket}${limit}:`, limit)
        return [{ tier, limit, limiter, subject, consumed: limiter.consume(subject) }]
      })
      // The tiers are counted at once: one round trip to Redis, not one per tier.
      const settled = await Promise.allSettled(checks.map((check) => check.consumed))
      const counted: Counted[] = []
      let refused: (Counted & { seconds: number }) | undefined
      for (const [i, outcome] of settled.entries()) {
        const { tier, limit } = checks[i] as (typeof checks)[number]
        if (outcome.status === 'fulfilled') {
          counted.push({ tier, limit, result: outcome.value })
        } else if (outcome.reason instanceof RateLimiterRes) {
          const seconds = Math.max(1, Math.ceil(outcome.reason.msBeforeNext / 1000))
          counted.push({ tier, limit, result: outcome.reason })
          if (!refused || seconds > refused.seconds)
            refused = { tier, limit, result: outcome.reason, seconds }
        } else {
          // Neither Redis nor the in-memory insurance answered: let the request through.
          if (!warned) request.log.warn({ err: outcome.reason }, 'rate limiter unavailable')
          warned = true
        }
      }
      setHeaders(reply, counted, refused)
      const accepted = checks.filter((_, i) => settled[i]?.status === 'fulfilled')
      if (refused) {
        // Refused by one tier, the request did nothing: the others' points come back, so
        // one caller over their own limit does not use up their organization's.
        await giveBack(accepted)
        fastify.metrics.rateLimited(refused.tier)
        throw new AppError({
          code: 'rate_limited',
          status: 429,
          userMessage: `Too many requests ${WHO[refused.tier]}. Try again in ${refused.seconds} seconds.`,
          retryAfterSeconds: refused.seconds,
        })
      }
      if (keep && own.bucket) taken.set(request, accepted)
    }

    // Per address first, before authentication or any parsing work.
    fastify.addHook('onRequest', async (request, reply) => {
      // An IPv6 client counts as its /64 (RATE_LIMIT_IPV6_PREFIX): one host, one key.
      await count(request, reply, [
        ['ip', clientNetwork(request.ip, fastify.config.RATE_LIMIT_IPV6_PREFIX)],
      ])
    })
    // After the access check (registered earlier) has named the caller and organization.
    fastify.addHook('preValidation', async (request, reply) => {
      const caller = request.apiKey
        ? `key:${request.apiKey.id}`
        : request.auth
          ? `user:${request.auth.userId}`
          : undefined
      // Only these tiers' points can come back: the per-address one never does, so
      // refused requests (a bad token, another tenant's id) still count against it.
      await count(
        request,
        reply,
        [
          ['user', caller],
          ['organization', request.tenant?.organizationId],
        ],
        true,
      )
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

/**
 * The RateLimit fields of draft-ietf-httpapi-ratelimit-headers-06: every tier applied in
 * RateLimit-Policy (its tier in a vendor-prefixed parameter, as the draft asks of
 * unregistered ones), and the numbers of the tightest tier (fewest left) in
 * RateLimit-Limit, -Remaining and -Reset. A refused request reports the tier that refused
 * it, so RateLimit-Reset names the moment Retry-After does.
 */
function setHeaders(
  reply: FastifyReply,
  counted: Counted[],
  refused?: Counted & { seconds: number },
) {
  const previous = reply.getHeader('ratelimit-policy')
  const policies = counted.map(
    ({ tier, limit }) => `${limit};w=${WINDOW_SECONDS};x-groundwork-tier="${tier}"`,
  )
  const all = [previous, ...policies].filter(Boolean).join(', ')
  if (all) reply.header('ratelimit-policy', all)
  if (refused) {
    reply.header('ratelimit-limit', String(refused.limit))
    reply.header('ratelimit-remaining', '0')
    reply.header('ratelimit-reset', String(refused.seconds))
    return
  }
  const tightest = counted.reduce<Counted | undefined>(
    (min, c) => (!min || c.result.remainingPoints < min.result.remainingPoints ? c : min),
    undefined,
  )
  if (!tightest) return
  const currentRemaining = Number(
    reply.getHeader('ratelimit-remaining') ?? Number.POSITIVE_INFINITY,
  )
  if (tightest.result.remainingPoints > currentRemaining) return
  reply.header('ratelimit-limit', String(tightest.limit))
  reply.header('ratelimit-remaining', String(Math.max(0, tightest.result.remainingPoints)))
  reply.header('ratelimit-reset', String(Math.ceil(tightest.result.msBeforeNext / 1000)))
}

declare module 'fastify' {
  interface FastifyContextConfig {
    /** This route's own limits per minute (see RouteLimits). */
    limits?: RouteLimits
  }
}
