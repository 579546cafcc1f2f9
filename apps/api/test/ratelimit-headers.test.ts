import { useIsolatedServices } from '@repo/testing'
import type { FastifyInstance, LightMyRequestResponse } from 'fastify'
import { type Item, parseItem, parseList } from 'structured-headers'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildTestServer, signUpOwner } from './helpers.ts'

// The RateLimit fields checked against the draft they implement, read with an independent
// Structured Fields parser (structured-headers), never with our own regexes.
const services = useIsolatedServices()
let app: FastifyInstance
let limited: FastifyInstance

let address = 0
/** A client address of its own, so the per-address limit stays out of the way. */
const freshIp = () => `10.9.${Math.floor(++address / 250)}.${address % 250}`

beforeAll(async () => {
  const { database, redis } = services()
  // Sign-ups go through an instance without limits (buckets of its own).
  app = await buildTestServer({ DATABASE_URL: database.appUrl, REDIS_URL: redis.url })
  limited = await buildTestServer({
    DATABASE_URL: database.appUrl,
    REDIS_URL: redis.url,
    RATE_LIMIT_IP_PER_MINUTE: '5',
    RATE_LIMIT_USER_PER_MINUTE: '3',
    RATE_LIMIT_ORG_PER_MINUTE: '2',
  })
})
afterAll(async () => {
  await Promise.all([app?.close(), limited?.close()])
})

/** The parameters of a Structured Field item, as a plain object. */
const params = ([, parameters]: Item) => Object.fromEntries(parameters)

describe('RateLimit header fields: draft-ietf-httpapi-ratelimit-headers-06', () => {
  // The revision whose fields the API sends (RateLimit-Limit, -Remaining, -Reset and
  // -Policy). Its syntax is Structured Fields (RFC 8941, now RFC 9651): read here with an
  // independent parser, so a value our own code reads back is not enough.
  it("the draft's own examples parse as the draft describes them, so the parser is fit to judge", () => {
    const policies = parseList('10;w=1, 50;w=60, 1000;w=3600, 5000;w=86400')
    expect(policies.map(([limit, p]) => [limit, p.get('w')])).toEqual([
      [10, 1],
      [50, 60],
      [1000, 3600],
      [5000, 86400],
    ])
    expect(params(parseList('100;w=60;comment="fixed window"')[0] as Item)).toEqual({
      w: 60,
      comment: 'fixed window',
    })
    expect(parseItem('50')).toEqual([50, new Map()])
  })

  it('are an Integer Item each for Limit, Remaining and Reset, and a List of quota policies with a window', async () => {
    const owner = await signUpOwner(app)
    const res = await limited.inject({
      url: `/v1/orgs/${owner.orgId}/projects`,
      headers: owner.headers,
      remoteAddress: freshIp(),
    })
    expect(res.statusCode).toBe(200)
    for (const field of ['ratelimit-limit', 'ratelimit-remaining', 'ratelimit-reset']) {
      // Each "MUST NOT occur multiple times"; an Item, a non-negative Integer, no parameters.
      const value = res.headers[field]
      expect(typeof value, field).toBe('string')
      const [integer, parameters] = parseItem(value as string)
      expect(Number.isInteger(integer) && (integer as number) >= 0, field).toBe(true)
      expect(parameters.size, field).toBe(0)
    }
    expect(typeof res.headers['ratelimit-policy']).toBe('string')
    const policies = parseList(res.headers['ratelimit-policy'] as string)
    // The three tiers: the address's, the user's and the organization's.
    expect(policies.map(([quota, p]) => [quota, p.get('w')])).toEqual([
      [5, 60],
      [3, 60],
      [2, 60],
    ])
    for (const policy of policies) {
      // Parameters other than the registered "w" are prefixed x-<vendor> (Quota Policy).
      const others = Object.keys(params(policy)).filter((name) => name !== 'w')
      expect(others.every((name) => name.startsWith('x-groundwork-'))).toBe(true)
    }
    // The expiring limit is "the service limit that is closest to reaching its limit":
    // the organization's 2, with 1 left after this request.
    expect(parseItem(res.headers['ratelimit-limit'] as string)[0]).toBe(2)
    expect(parseItem(res.headers['ratelimit-remaining'] as string)[0]).toBe(1)
  })

  it('count down by one a request, reset within the window, and end in 429 with Retry-After', async () => {
    const ip = freshIp()
    const answers: LightMyRequestResponse[] = []
    for (let i = 0; i < 6; i++)
      answers.push(await limited.inject({ url: '/v1/auth/me', remoteAddress: ip }))
    expect(answers.map((r) => r.statusCode)).toEqual([401, 401, 401, 401, 401, 429])
    const read = (r: LightMyRequestResponse, field: string) =>
      parseItem(r.headers[field] as string)[0] as number
    expect(answers.map((r) => read(r, 'ratelimit-limit'))).toEqual([5, 5, 5, 5, 5, 5])
    expect(answers.map((r) => read(r, 'ratelimit-remaining'))).toEqual([4, 3, 2, 1, 0, 0])
    for (const r of answers) {
      expect(read(r, 'ratelimit-reset')).toBeGreaterThan(0)
      expect(read(r, 'ratelimit-reset')).toBeLessThanOrEqual(60)
    }
    const retryAfter = Number(answers[5]?.headers['retry-after'])
    expect(retryAfter).toBeGreaterThan(0)
    expect(retryAfter).toBeLessThanOrEqual(60)
  })

  it('name the moment Retry-After names in RateLimit-Reset when a request is refused', async () => {
    // "If a response contains both the Retry-After and the RateLimit-Reset fields, the
    // RateLimit-Reset field value SHOULD reference the same point in time" (Server Behavior).
    // Both the user (3 a minute) and the organization (2) run out on the same request, but
    // the user's window started earlier: it ends in 5 s, the organization's in a minute.
    const owner = await signUpOwner(app)
    expect(
      (
        await limited.inject({
          url: '/v1/auth/me',
          headers: owner.headers,
          remoteAddress: freshIp(),
        })
      ).statusCode,
    ).toBe(200)
    // The limiter's key for this user in this server's bucket (3 a minute).
    const [userKey, ...others] = await limited.redis.keys(
      `groundwork:rl:user:default:3:*${owner.userId}`,
    )
    expect(others).toEqual([])
    await limited.redis.pexpire(userKey as string, 5_000)
    const projects = () =>
      limited.inject({
        url: `/v1/orgs/${owner.orgId}/projects`,
        headers: owner.headers,
        remoteAddress: freshIp(),
      })
    expect([(await projects()).statusCode, (await projects()).statusCode]).toEqual([200, 200])
    const refused = await projects()
    expect(refused.statusCode).toBe(429)
    const retryAfter = Number(refused.headers['retry-after'])
    // The organization's window decides when a retry can succeed.
    expect(retryAfter).toBeGreaterThan(5)
    expect(parseItem(refused.headers['ratelimit-reset'] as string)[0]).toBe(retryAfter)
    expect(parseItem(refused.headers['ratelimit-remaining'] as string)[0]).toBe(0)
    expect(parseItem(refused.headers['ratelimit-limit'] as string)[0]).toBe(2)
  })
})
