import { signInThrottleKey } from '@repo/core'
import { useIsolatedServices } from '@repo/testing'
import type { FastifyInstance } from 'fastify'
import { Redis } from 'ioredis'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildTestServer } from './helpers.ts'

const services = useIsolatedServices()
let server: FastifyInstance
let second: FastifyInstance
// Without the per-IP limit in the way, to watch the per-account throttle alone.
let unlimited: FastifyInstance
let unlimitedSecond: FastifyInstance
const password = 'correct horse battery staple'

beforeAll(async () => {
  const { database, redis } = services()
  const env = {
    DATABASE_URL: database.appUrl,
    REDIS_URL: redis.url,
    AUTH_RATE_LIMIT_PER_MINUTE: '5',
    CORS_ORIGINS: 'https://app.example.com',
  }
  server = await buildTestServer(env)
  // A second API instance on the same Redis: limits are shared, not per process.
  second = await buildTestServer(env)
  unlimited = await buildTestServer({ ...env, AUTH_RATE_LIMIT_PER_MINUTE: '1000' })
  unlimitedSecond = await buildTestServer({ ...env, AUTH_RATE_LIMIT_PER_MINUTE: '1000' })
})
afterAll(async () => {
  await Promise.all([
    server?.close(),
    second?.close(),
    unlimited?.close(),
    unlimitedSecond?.close(),
  ])
})

const signIn = (app: FastifyInstance, email: string, pass: string, ip: string) =>
  app.inject({
    method: 'POST',
    url: '/v1/auth/sign-in',
    payload: { email, password: pass },
    remoteAddress: ip,
  })

describe('rate limits on auth routes', () => {
  it('answer 429 with Retry-After past the per-IP limit, counted across instances', async () => {
    const codes: number[] = []
    for (let i = 0; i < 6; i++) {
      const app = i % 2 === 0 ? server : second
      const res = await app.inject({
        method: 'POST',
        url: '/v1/auth/sign-up',
        payload: { email: `limit${i}@example.com`, password, name: 'x' },
        remoteAddress: '10.9.9.9',
      })
      codes.push(res.statusCode)
      if (res.statusCode === 429) {
        expect(Number(res.headers['retry-after'])).toBeGreaterThan(0)
        expect(res.headers['content-type']).toMatch(/^application\/problem\+json/)
        expect(res.json().type).toBe('urn:groundwork:problem:rate_limited')
      }
    }
    expect(codes).toEqual([201, 201, 201, 201, 201, 429])
    // Another address is not affected.
    const other = await server.inject({
      method: 'POST',
      url: '/v1/auth/sign-up',
      payload: { email: 'limit-other@example.com', password, name: 'x' },
      remoteAddress: '10.9.9.10',
    })
    expect(other.statusCode).toBe(201)
  })
})

describe('IPv6 clients', () => {
  it('count as their /64 for per-address limits: rotating addresses in one network gains nothing', async () => {
    const codes: number[] = []
    for (let i = 1; i <= 6; i++) {
      const res = await server.inject({
        method: 'POST',
        url: '/v1/auth/sign-up',
        payload: { email: `v6-${i}@example.com`, password, name: 'x' },
        // A fresh address each time, all in 2001:db8:6:6::/64.
        remoteAddress: `2001:db8:6:6:${i.toString(16)}::${i}`,
      })
      codes.push(res.statusCode)
    }
    expect(codes).toEqual([201, 201, 201, 201, 201, 429])
    // The neighbouring /64 is another client.
    const neighbour = await server.inject({
      method: 'POST',
      url: '/v1/auth/sign-up',
      payload: { email: 'v6-neighbour@example.com', password, name: 'x' },
      remoteAddress: '2001:db8:6:7::1',
    })
    expect(neighbour.statusCode).toBe(201)
  })

  it('are throttled per account and /64 when guessing a password from rotating addresses', async () => {
    const email = 'v6-victim@example.com'
    await unlimited.inject({
      method: 'POST',
      url: '/v1/auth/sign-up',
      payload: { email, password, name: 'Victim' },
      remoteAddress: '10.1.0.2',
    })
    for (let i = 1; i <= 6; i++)
      expect(
        (await signIn(unlimited, email, `guess-${i}-xxxxx`, `2001:db8:7:7::${i.toString(16)}`))
          .statusCode,
      ).toBe(401)
    const blocked = await signIn(unlimited, email, password, '2001:db8:7:7::ffff')
    expect(blocked.statusCode).toBe(429)
    expect(blocked.json().type).toBe('urn:groundwork:problem:sign_in_throttled')
  })
})

describe('client addresses behind the web app', () => {
  it('count per forwarded client when the peer is a trusted proxy, and ignore forged headers otherwise', async () => {
    const signUp = (i: number, remoteAddress: string, forwardedFor: string) =>
      server.inject({
        method: 'POST',
        url: '/v1/auth/sign-up',
        payload: {
          email: `proxied${i}-${remoteAddress}-${forwardedFor}@example.com`,
          password,
          name: 'x',
        },
        remoteAddress,
        headers: { 'x-forwarded-for': forwardedFor },
      })
    // Through the local proxy (loopback), each browser has its own budget.
    const viaProxy = []
    for (let i = 0; i < 6; i++)
      viaProxy.push((await signUp(i, '127.0.0.1', '203.0.113.7')).statusCode)
    expect(viaProxy).toEqual([201, 201, 201, 201, 201, 429])
    expect((await signUp(9, '127.0.0.1', '203.0.113.8')).statusCode).toBe(201)
    // A direct caller cannot escape its limit by inventing X-Forwarded-For values.
    const direct = []
    for (let i = 0; i < 6; i++)
      direct.push((await signUp(i, '10.9.9.50', `198.51.100.${i}`)).statusCode)
    expect(direct).toEqual([201, 201, 201, 201, 201, 429])
  })
})

describe('password guessing', () => {
  it('is slowed exponentially per account and address, without locking the real user out', async () => {
    const email = 'victim@example.com'
    await unlimited.inject({
      method: 'POST',
      url: '/v1/auth/sign-up',
      payload: { email, password, name: 'Victim' },
      remoteAddress: '10.1.0.1',
    })

    // Five free failures from the attacker's address, then a wait is imposed.
    for (let i = 0; i < 5; i++)
      expect((await signIn(unlimited, email, `guess-${i}-xxxxx`, '10.6.6.6')).statusCode).toBe(401)
    expect((await signIn(unlimited, email, 'guess-6-xxxxx', '10.6.6.6')).statusCode).toBe(401)
    const blocked = await signIn(unlimitedSecond, email, password, '10.6.6.6')
    expect(blocked.statusCode).toBe(429)
    expect(blocked.json().type).toBe('urn:groundwork:problem:sign_in_throttled')
    expect(Number(blocked.headers['retry-after'])).toBeGreaterThanOrEqual(1)

    // The real user, from their own address, signs in at once.
    expect((await signIn(unlimited, email, password, '10.1.0.1')).statusCode).toBe(200)

    // After the wait, the right password works from the throttled address too.
    await new Promise((resolve) => setTimeout(resolve, 1_100))
    expect((await signIn(unlimited, email, password, '10.6.6.6')).statusCode).toBe(200)
  })
})

describe('a burst of parallel guesses', () => {
  it('gets no more tries than one guess after another: the check and the count are one step', async () => {
    const email = 'burst-victim@example.com'
    await unlimited.inject({
      method: 'POST',
      url: '/v1/auth/sign-up',
      payload: { email, password, name: 'Victim' },
      remoteAddress: '10.7.0.1',
    })
    // Thirty wrong passwords at once from one address, over two API instances.
    const answers = await Promise.all(
      Array.from({ length: 30 }, (_, i) =>
        signIn(i % 2 ? unlimited : unlimitedSecond, email, `guess-${i}-xxxxx`, '10.7.7.7'),
      ),
    )
    const codes = answers.map((a) => a.statusCode)
    // Five free tries and the one that starts the wait reach the password check; the rest
    // wait (counted one by one, they would all have been checked).
    expect(codes.filter((c) => c === 401)).toHaveLength(6)
    expect(codes.filter((c) => c === 429)).toHaveLength(24)
    // The owner, elsewhere, is not affected.
    expect((await signIn(unlimited, email, password, '10.7.0.1')).statusCode).toBe(200)
  })
})

describe('password guessing from many addresses', () => {
  it('slows the account briefly past 20 failures, while its owner still gets in from a known network', async () => {
    const email = 'spread-victim@example.com'
    await unlimited.inject({
      method: 'POST',
      url: '/v1/auth/sign-up',
      payload: { email, password, name: 'Victim' },
      remoteAddress: '10.3.0.1',
    })
    // The owner has signed in from home before.
    expect((await signIn(unlimited, email, password, '10.3.0.1')).statusCode).toBe(200)
    // Twenty-one guesses, each from a fresh address: no address reaches its own limit.
    for (let i = 1; i <= 21; i++)
      expect((await signIn(unlimited, email, `guess-${i}-xxxxx`, `10.4.${i}.1`)).statusCode).toBe(
        401,
      )
    // A new address now waits, briefly: the account is being guessed at.
    const slowed = await signIn(unlimited, email, password, '10.4.200.1')
    expect(slowed.statusCode).toBe(429)
    expect(slowed.json().type).toBe('urn:groundwork:problem:sign_in_throttled')
    expect(Number(slowed.headers['retry-after'])).toBeLessThanOrEqual(60)
    // Refused before any password was checked, those tries are no guesses from that
    // address: retrying while the account waits does not lengthen the address's own wait.
    for (let i = 0; i < 3; i++)
      expect((await signIn(unlimited, email, password, '10.4.200.1')).statusCode).toBe(429)
    const redis = new Redis(services().redis.url)
    try {
      expect(await redis.get(`${signInThrottleKey(email, '10.4.200.1')}:count`)).toBe('0')
    } finally {
      redis.disconnect()
    }
    // The owner, from a network they signed in from, is not locked out.
    expect((await signIn(unlimited, email, password, '10.3.0.1')).statusCode).toBe(200)
  })
})

describe('security headers and CORS', () => {
  it('sends helmet headers on every answer', async () => {
    const res = await server.inject({ url: '/healthz' })
    expect(res.headers['x-content-type-options']).toBe('nosniff')
    expect(res.headers['strict-transport-security']).toBeDefined()
    expect(res.headers['x-frame-options']).toBeDefined()
  })

  it('allows only the configured browser origins', async () => {
    const allowed = await server.inject({
      url: '/healthz',
      headers: { origin: 'https://app.example.com' },
    })
    expect(allowed.headers['access-control-allow-origin']).toBe('https://app.example.com')
    const other = await server.inject({
      url: '/healthz',
      headers: { origin: 'https://evil.example.net' },
    })
    expect(other.headers['access-control-allow-origin']).toBeUndefined()
  })
})
