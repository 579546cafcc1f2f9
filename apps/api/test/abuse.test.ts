import { createHash } from 'node:crypto'
import { generateSecret, hashSecret } from '@repo/auth'
import { signInThrottleKey } from '@repo/core'
import {
  type FakeOAuthProvider,
  fakeOAuthEnv,
  startFakeOAuthProvider,
  useIsolatedServices,
} from '@repo/testing'
import type { FastifyInstance } from 'fastify'
import { Redis } from 'ioredis'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildTestServer, ownerQuery } from './helpers.ts'

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

/** A new account (through the instance without a per-IP limit), as if from `ip`. */
const signUpAt = (email: string, ip: string, name = 'Victim') =>
  unlimited.inject({
    method: 'POST',
    url: '/v1/auth/sign-up',
    payload: { email, password, name },
    remoteAddress: ip,
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

describe('the auth routes', () => {
  // Every route with a stricter per-IP limit of its own (AUTH_RATE_LIMIT_PER_MINUTE, 5 here).
  // Bodies that fail validation or credentials that are missing: the limit counts first.
  const authRoutes = [
    ['POST', '/v1/auth/sign-up'],
    ['POST', '/v1/auth/sign-in'],
    ['POST', '/v1/auth/password'],
    ['POST', '/v1/auth/verify-email'],
    ['POST', '/v1/auth/verify-email/resend'],
    ['POST', '/v1/auth/password-reset'],
    ['POST', '/v1/auth/password-reset/confirm'],
    ['POST', '/v1/auth/mfa/totp/confirm'],
    ['POST', '/v1/auth/mfa/verify'],
    ['POST', '/v1/auth/mfa/step-up'],
    ['POST', '/v1/auth/oauth/github/start'],
    ['POST', '/v1/auth/oauth/github/callback'],
  ] as const

  it('each have a bucket of their own: using one up limits no other', async () => {
    const call = ([method, url]: (typeof authRoutes)[number], remoteAddress: string) =>
      server.inject({ method, url, payload: {}, remoteAddress })
    for (const [i, route] of authRoutes.entries()) {
      const address = `10.70.${i}.1`
      for (let n = 0; n < 5; n++)
        expect((await call(route, address)).statusCode, route.join(' ')).not.toBe(429)
      const over = await call(route, address)
      expect(over.statusCode, route.join(' ')).toBe(429)
      expect(over.json().type).toBe('urn:groundwork:problem:rate_limited')
      for (const other of authRoutes) {
        if (other === route) continue
        expect(
          (await call(other, address)).statusCode,
          `${other.join(' ')} after ${route.join(' ')} was used up`,
        ).not.toBe(429)
      }
    }
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
    await signUpAt(email, '10.1.0.2')
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
    await signUpAt(email, '10.1.0.1')

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

    // Once the wait has passed, the right password works from the throttled address too
    // (until then it is refused without counting as another failure).
    await expect
      .poll(async () => (await signIn(unlimited, email, password, '10.6.6.6')).statusCode, {
        timeout: 10_000,
        interval: 100,
      })
      .toBe(200)
  })
})

describe('the sign-in throttle', () => {
  it('caps the wait at 15 minutes however many failures there were', async () => {
    const email = 'capped-victim@example.com'
    await signUpAt(email, '10.8.0.1')
    // A long night of guessing from one address: a hundred failures already counted.
    const redis = new Redis(services().redis.url)
    try {
      await redis.set(`${signInThrottleKey(email, '10.8.8.8')}:count`, '100')
    } finally {
      redis.disconnect()
    }
    expect((await signIn(unlimited, email, 'guess-101-xxxxx', '10.8.8.8')).statusCode).toBe(401)
    const blocked = await signIn(unlimited, email, password, '10.8.8.8')
    expect(blocked.statusCode).toBe(429)
    const wait = Number(blocked.headers['retry-after'])
    expect(wait).toBeGreaterThan(14 * 60)
    expect(wait).toBeLessThanOrEqual(15 * 60)
  })

  it('clears the count on a successful sign-in', async () => {
    const email = 'forgetful-owner@example.com'
    await signUpAt(email, '10.8.1.1', 'Owner')
    const count = `${signInThrottleKey(email, '10.8.1.1')}:count`
    const redis = new Redis(services().redis.url)
    try {
      for (let i = 0; i < 4; i++)
        expect((await signIn(unlimited, email, `typo-${i}-xxxxxx`, '10.8.1.1')).statusCode).toBe(
          401,
        )
      expect(await redis.get(count)).toBe('4')
      expect((await signIn(unlimited, email, password, '10.8.1.1')).statusCode).toBe(200)
      expect(await redis.get(count)).toBeNull()
      // Five free failures again (counted on, the second would already wait).
      for (let i = 0; i < 5; i++)
        expect((await signIn(unlimited, email, `typo-${i}-yyyyyy`, '10.8.1.1')).statusCode).toBe(
          401,
        )
    } finally {
      redis.disconnect()
    }
  })
})

describe('a burst of parallel guesses', () => {
  it('gets no more tries than one guess after another: the check and the count are one step', async () => {
    const email = 'burst-victim@example.com'
    await signUpAt(email, '10.7.0.1')
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
    await signUpAt(email, '10.3.0.1')
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

describe('networks where the owner proved it is them', () => {
  // The account-wide counter, as sign-in keys it (checked below to exist).
  const accountKey = (email: string) =>
    `groundwork:signin-account:${createHash('sha256').update(email).digest('hex').slice(0, 32)}`

  /** An account guessed at from 21 addresses, its account-wide wait stretched to a minute. */
  async function guessedAt(email: string, net: number) {
    await unlimited.inject({
      method: 'POST',
      url: '/v1/auth/sign-up',
      payload: { email, password, name: 'Victim' },
      remoteAddress: `10.${net}.0.1`,
    })
    for (let i = 1; i <= 21; i++)
      expect(
        (await signIn(unlimited, email, `guess-${i}-xxxxx`, `10.${net}.${i}.1`)).statusCode,
      ).toBe(401)
    const redis = new Redis(services().redis.url)
    try {
      expect(await redis.get(`${accountKey(email)}:count`)).toBe('21')
      // Long enough for the steps below, however slow the machine.
      await redis.set(`${accountKey(email)}:until`, String(Date.now() + 60_000), 'PX', 60_000)
    } finally {
      redis.disconnect()
    }
    // A network the owner never used waits.
    expect((await signIn(unlimited, email, password, `10.${net}.200.1`)).statusCode).toBe(429)
  }

  it('include one where the password was reset', async () => {
    const email = 'reset-owner@example.com'
    await guessedAt(email, 11)
    const home = '10.11.100.1'
    expect((await signIn(unlimited, email, password, home)).statusCode).toBe(429)
    // The owner resets the password from home, with the emailed link.
    const token = generateSecret()
    await ownerQuery(
      services().database.url,
      `INSERT INTO password_resets (id, user_id, token_hash, expires_at)
       SELECT gen_random_uuid(), id, $2, now() + interval '1 hour' FROM users WHERE email = $1`,
      [email, hashSecret(token)],
    )
    const newPassword = 'a brand new passphrase'
    const reset = await unlimited.inject({
      method: 'POST',
      url: '/v1/auth/password-reset/confirm',
      payload: { token, newPassword },
      remoteAddress: home,
    })
    expect(reset.statusCode).toBe(204)
    // Elsewhere the account still waits; from home the owner signs in (which clears it).
    expect((await signIn(unlimited, email, newPassword, '10.11.201.1')).statusCode).toBe(429)
    expect((await signIn(unlimited, email, newPassword, home)).statusCode).toBe(200)
  })

  it('include one where the owner signed in with OAuth', async () => {
    const provider: FakeOAuthProvider = await startFakeOAuthProvider()
    const { database, redis } = services()
    const withOAuth = await buildTestServer({
      DATABASE_URL: database.appUrl,
      REDIS_URL: redis.url,
      APP_URL: 'https://app.example.com',
      ...fakeOAuthEnv(provider),
    })
    try {
      const email = 'oauth-owner@example.com'
      await guessedAt(email, 12)
      // The account's email is verified, so signing in with a provider links to it.
      await ownerQuery(
        database.url,
        'UPDATE users SET email_verified_at = now() WHERE email = $1',
        [email],
      )
      const home = '10.12.100.1'
      expect((await signIn(unlimited, email, password, home)).statusCode).toBe(429)
      provider.setUser({ id: '707', email, emailVerified: true, name: 'Owner' })
      const start = await withOAuth.inject({
        method: 'POST',
        url: '/v1/auth/oauth/github/start',
        remoteAddress: home,
      })
      const callback = await withOAuth.inject({
        method: 'POST',
        url: '/v1/auth/oauth/github/callback',
        payload: {
          ...(await provider.authorize(start.json().authorizationUrl)),
          binding: start.json().binding,
        },
        remoteAddress: home,
      })
      expect(callback.statusCode).toBe(200)
      expect((await signIn(unlimited, email, password, '10.12.201.1')).statusCode).toBe(429)
      expect((await signIn(unlimited, email, password, home)).statusCode).toBe(200)
    } finally {
      await withOAuth.close()
      await provider.close()
    }
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

  it('allows no browser origin when CORS_ORIGINS is not set', async () => {
    const { database, redis } = services()
    const closed = await buildTestServer({ DATABASE_URL: database.appUrl, REDIS_URL: redis.url })
    try {
      for (const origin of ['https://app.example.com', 'https://evil.example.net', 'null']) {
        const simple = await closed.inject({ url: '/healthz', headers: { origin } })
        expect(simple.headers['access-control-allow-origin'], origin).toBeUndefined()
        const preflight = await closed.inject({
          method: 'OPTIONS',
          url: '/v1/auth/sign-in',
          headers: {
            origin,
            'access-control-request-method': 'POST',
            'access-control-request-headers': 'content-type',
          },
        })
        expect(preflight.headers['access-control-allow-origin'], origin).toBeUndefined()
        expect(preflight.headers['access-control-allow-methods'], origin).toBeUndefined()
      }
    } finally {
      await closed.close()
    }
  })
})
