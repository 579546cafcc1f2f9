import type { FastifyReply } from 'fastify'

/** One tier a request was counted against, once counted. */
export interface TierCount<Tier extends string = string> {
  tier: Tier
  limit: number
  remaining: number
  msBeforeReset: number
}

/** The tier that refused a request, and the seconds until it would not. */
export type TierRefusal<Tier extends string = string> = TierCount<Tier> & { seconds: number }

/**
 * The RateLimit fields of draft-ietf-httpapi-ratelimit-headers-06: every tier applied in
 * RateLimit-Policy (its tier in a vendor-prefixed parameter, as the draft asks of
 * unregistered ones), and the numbers of the tightest tier (fewest left) in
 * RateLimit-Limit, -Remaining and -Reset. A refused request reports the tier that refused
 * it, so RateLimit-Reset names the moment Retry-After does. Called once per point where
 * tiers are counted: each call adds its tiers to what an earlier one set.
 */
export function setRateLimitHeaders<Tier extends string>(
  reply: FastifyReply,
  windowSeconds: number,
  applied: ReadonlyArray<{ tier: Tier; limit: number }>,
  counted: ReadonlyArray<TierCount<Tier>>,
  refused?: TierRefusal<Tier>,
) {
  const previous = reply.getHeader('ratelimit-policy')
  const policies = applied.map(
    ({ tier, limit }) => `${limit};w=${windowSeconds};x-groundwork-tier="${tier}"`,
  )
  reply.header('ratelimit-policy', [previous, ...policies].filter(Boolean).join(', '))
  if (refused) {
    reply.header('ratelimit-limit', String(refused.limit))
    reply.header('ratelimit-remaining', '0')
    reply.header('ratelimit-reset', String(refused.seconds))
    return
  }
  const tightest = counted.reduce<TierCount<Tier> | undefined>(
    (min, c) => (!min || c.remaining < min.remaining ? c : min),
    undefined,
  )
  if (!tightest) return
  const currentRemaining = Number(
    reply.getHeader('ratelimit-remaining') ?? Number.POSITIVE_INFINITY,
  )
  if (tightest.remaining > currentRemaining) return
  reply.header('ratelimit-limit', String(tightest.limit))
  reply.header('ratelimit-remaining', String(tightest.remaining))
  reply.header('ratelimit-reset', String(Math.ceil(tightest.msBeforeReset / 1000)))
}
