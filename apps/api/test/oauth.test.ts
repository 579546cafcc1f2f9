import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { fakeOAuthEnv, scrapeMetrics } from '@repo/testing'
import type { FastifyInstance } from 'fastify'
import { describe, expect, it } from 'vitest'
import { buildTestServer, useApiServer } from './helpers.ts'
import { APP_URL, type OAuthFlow, oauthSignIn, useFakeOAuthProvider } from './oauth-flow.ts'

// The real OAuth client code (arctic, PKCE, profile calls) against a local fake provider
// playing GitHub and Google.
const provider = useFakeOAuthProvider()
const { server, sql, services } = useApiServer(() => ({ APP_URL, ...fakeOAuthEnv(provider()) }))

/** A second API on the same services and fake provider, with `env` on top. */
const apiWith = (env: Record<string, string>) => {
  const { database, redis } = services()
  return buildTestServer({
    DATABASE_URL: database.appUrl,
    REDIS_URL: redis.url,
    APP_URL,
    ...fakeOAuthEnv(provider()),
    ...env,
  })
}

const signInWith = (
  name: 'github' | 'google',
  tamper?: (flow: OAuthFlow) => object,
  app: FastifyInstance = server,
) => oauthSignIn(app, provider(), name, tamper)

describe('OAuth sign-in', () => {
  it('creates a verified account on first sign-in and signs the same account in again', async () => {
    provider().setUser({
      id: '101',
      email: 'Grace@Example.com',
      emailVerified: true,
      name: 'Grace Hopper',
    })
    const first = await signInWith('github')
    expect(first.statusCode).toBe(200)
    expect(first.json().user).toMatchObject({
      email: 'grace@example.com',
      emailVerified: true,
      name: 'Grace Hopper',
    })
    const again = await signInWith('github')
    expect(again.json().user.id).toBe(first.json().user.id)
    expect(
      (
        await server.inject({
          url: '/v1/auth/me',
          headers: { authorization: `Bearer ${again.json().token}` },
        })
      ).statusCode,
    ).toBe(200)
  })

  it('links to an existing account by verified email, and clears a password nobody verified', async () => {
    const email = 'victim@example.com'
    // Someone registered the address first, with a password, and never verified it.
    const squatter = await server.inject({
      method: 'POST',
      url: '/v1/auth/sign-up',
      payload: { email, password: 'squatter knows this one', name: 'Squatter' },
    })
    provider().setUser({ id: 'g-202', email, emailVerified: true, name: 'Victim' })
    const res = await signInWith('google')
    expect(res.statusCode).toBe(200)
    expect(res.json().user.id).toBe(squatter.json().user.id)
    expect(res.json().user.emailVerified).toBe(true)
    // The squatter's session and password no longer work.
    expect(
      (
        await server.inject({
          url: '/v1/auth/me',
          headers: { authorization: `Bearer ${squatter.json().token}` },
        })
      ).statusCode,
    ).toBe(401)
    const squatterSignIn = await server.inject({
      method: 'POST',
      url: '/v1/auth/sign-in',
      payload: { email, password: 'squatter knows this one' },
    })
    expect(squatterSignIn.statusCode).toBe(401)
    expect(
      await sql(
        'SELECT provider FROM oauth_accounts o JOIN users u ON u.id = o.user_id WHERE u.email = $1',
        [email],
      ),
    ).toEqual([{ provider: 'google' }])
  })

  it('leaves no second factor, recovery code or pending MFA challenge of a squatter after linking', async () => {
    const email = 'mfa-squatter@example.com'
    const password = 'squatter knows this one'
    const squatter = (
      await server.inject({
        method: 'POST',
        url: '/v1/auth/sign-up',
        payload: { email, password, name: 'Sq' },
      })
    ).json()
    // As if enrolment had happened while unverified: give the account a confirmed factor.
    await sql('UPDATE users SET email_verified_at = now() WHERE email = $1', [email])
    const setup = (
      await server.inject({
        method: 'POST',
        url: '/v1/auth/mfa/totp/setup',
        headers: { authorization: `Bearer ${squatter.token}` },
      })
    ).json()
    const { decodeBase32IgnorePadding } = await import('@oslojs/encoding')
    const { currentTotp } = await import('@repo/auth')
    const key = decodeBase32IgnorePadding(setup.secret)
    await server.inject({
      method: 'POST',
      url: '/v1/auth/mfa/totp/confirm',
      headers: { authorization: `Bearer ${squatter.token}` },
      payload: { code: currentTotp(key) },
    })
    const recoveryCodes = () =>
      sql(
        'SELECT count(*)::int AS n FROM recovery_codes r JOIN users u ON u.id = r.user_id WHERE u.email = $1',
        [email],
      )
    expect(await recoveryCodes()).toEqual([{ n: 10 }])
    await sql('UPDATE users SET email_verified_at = NULL WHERE email = $1', [email])
    const challenge = (
      await server.inject({ method: 'POST', url: '/v1/auth/sign-in', payload: { email, password } })
    ).json()
    expect(challenge.mfaRequired).toBe(true)

    provider().setUser({ id: 'g-mfa', email, emailVerified: true, name: 'Owner' })
    const owner = await signInWith('google')
    expect(owner.statusCode).toBe(200)
    expect(owner.json().token).toEqual(expect.any(String))
    expect(
      await sql('SELECT 1 FROM mfa_factors f JOIN users u ON u.id = f.user_id WHERE u.email = $1', [
        email,
      ]),
    ).toEqual([])
    expect(await recoveryCodes()).toEqual([{ n: 0 }])
    const late = await server.inject({
      method: 'POST',
      url: '/v1/auth/mfa/verify',
      payload: { mfaToken: challenge.mfaToken, code: currentTotp(key, Date.now() + 30_000) },
    })
    expect(late.statusCode).toBe(401)
    // The challenge itself is dead, not only the factor it was for.
    expect(late.json().type).toBe('urn:groundwork:problem:mfa_challenge_expired')
  })

  it('answers 400 for an unusable provider profile, and creates nothing', async () => {
    for (const [name, user] of [
      ['github', { id: '505', email: 'not an email address', emailVerified: true, name: 'N' }],
      ['google', { id: '', email: 'no-id@example.com', emailVerified: true, name: 'N' }],
    ] as const) {
      provider().setUser(user)
      const res = await signInWith(name)
      expect(res.statusCode, name).toBe(400)
      expect(res.json().type, name).toBe('urn:groundwork:problem:oauth_failed')
    }
    expect(
      await sql(
        "SELECT email FROM users WHERE email IN ('not an email address', 'no-id@example.com')",
      ),
    ).toEqual([])
  })

  it('never links or creates an account from an email the provider has not verified', async () => {
    provider().setUser({
      id: '303',
      email: 'unverified@example.com',
      emailVerified: false,
      name: 'U',
    })
    const res = await signInWith('github')
    expect(res.statusCode).toBe(400)
    expect(res.json().type).toBe('urn:groundwork:problem:oauth_email_unverified')
    expect(await sql("SELECT id FROM users WHERE email = 'unverified@example.com'")).toEqual([])
  })

  it('refuses a forged, replayed or cross-provider state, and a code the provider rejects', async () => {
    provider().setUser({ id: '404', email: 'state@example.com', emailVerified: true, name: 'S' })
    expect((await signInWith('github', (f) => ({ ...f, state: 'forged-state' }))).json().type).toBe(
      'urn:groundwork:problem:invalid_oauth_state',
    )

    const start = await server.inject({ method: 'POST', url: '/v1/auth/oauth/github/start' })
    const flow = {
      ...(await provider().authorize(start.json().authorizationUrl)),
      binding: start.json().binding,
    }
    const viaGoogle = await server.inject({
      method: 'POST',
      url: '/v1/auth/oauth/google/callback',
      payload: flow,
    })
    expect(viaGoogle.json().type).toBe('urn:groundwork:problem:invalid_oauth_state')
    // The state was consumed by that attempt: the genuine callback cannot reuse it.
    expect(
      (
        await server.inject({
          method: 'POST',
          url: '/v1/auth/oauth/github/callback',
          payload: flow,
        })
      ).statusCode,
    ).toBe(400)

    // Someone else's code and state, without the binding of the client that started it.
    expect(
      (await signInWith('github', (f) => ({ ...f, binding: 'attacker-binding' }))).json().type,
    ).toBe('urn:groundwork:problem:invalid_oauth_state')

    const badCode = await signInWith('github', (f) => ({ ...f, code: 'not-a-real-code' }))
    expect(badCode.statusCode).toBe(400)
    expect(badCode.json().type).toBe('urn:groundwork:problem:oauth_failed')
  })

  it('answers 400 for an unknown provider and hostile input', async () => {
    expect(
      (await server.inject({ method: 'POST', url: '/v1/auth/oauth/myspace/start' })).statusCode,
    ).toBe(400)
    expect(
      (
        await server.inject({
          method: 'POST',
          url: '/v1/auth/oauth/github/callback',
          payload: { code: '', state: 'x', binding: 'b' },
        })
      ).statusCode,
    ).toBe(400)
    expect(
      (
        await server.inject({
          method: 'POST',
          url: '/v1/auth/oauth/github/callback',
          payload: { code: 'x'.repeat(5000), state: 'x', binding: 'b' },
        })
      ).statusCode,
    ).toBe(400)
  })
})

describe('failed OAuth sign-ins', () => {
  it('are counted in auth_sign_in_failures_total as oauth_failed, a success is not', async () => {
    const app = await apiWith({ METRICS_ENABLED: 'true', METRICS_PORT: '0' })
    try {
      const failures = async () =>
        (await scrapeMetrics(`http://127.0.0.1:${app.metricsServer?.port}/metrics`)).samples.find(
          (sample) =>
            sample.name === 'auth_sign_in_failures_total' &&
            sample.labels.reason === 'oauth_failed',
        )?.value ?? 0
      provider().setUser({
        id: '707',
        email: 'counted@example.com',
        emailVerified: true,
        name: 'C',
      })
      expect((await signInWith('github', undefined, app)).statusCode).toBe(200)
      expect(await failures()).toBe(0)
      expect(
        (await signInWith('github', (f) => ({ ...f, state: 'forged-state' }), app)).statusCode,
      ).toBe(400)
      expect(
        (await signInWith('github', (f) => ({ ...f, code: 'not-a-real-code' }), app)).statusCode,
      ).toBe(400)
      expect(await failures()).toBe(2)
    } finally {
      await app.close()
    }
  })
})

describe('a provider that never answers', () => {
  it('fails the sign-in with a 400 problem after the timeout, at the token exchange and the profile request', async () => {
    // Accepts connections and never answers.
    const hanging = createServer(() => {})
    await new Promise<void>((resolve) => hanging.listen(0, '127.0.0.1', resolve))
    const silent = `http://127.0.0.1:${(hanging.address() as AddressInfo).port}`
    const app = await apiWith({
      OAUTH_TIMEOUT_MS: '300',
      // GitHub's token exchange hangs; Google's answers, and its profile request hangs.
      GITHUB_TOKEN_URL: `${silent}/token`,
      GOOGLE_USERINFO_URL: `${silent}/userinfo`,
    })
    try {
      provider().setUser({
        id: '606',
        email: 'patient@example.com',
        emailVerified: true,
        name: 'P',
      })
      for (const name of ['github', 'google'] as const) {
        const started = performance.now()
        const res = await signInWith(name, undefined, app)
        expect(res.statusCode, name).toBe(400)
        expect(res.json().type, name).toBe('urn:groundwork:problem:oauth_failed')
        expect(performance.now() - started, name).toBeLessThan(3_000)
      }
    } finally {
      await app.close()
      hanging.closeAllConnections()
      await new Promise((resolve) => hanging.close(resolve))
    }
  })
})
