import { fakeOAuthEnv } from '@repo/testing'
import type { FastifyInstance } from 'fastify'
import { describe, expect, it } from 'vitest'
import { buildTestServer, signUpOwner, useApiServer } from './helpers.ts'
import { APP_URL, oauthSignIn, useFakeOAuthProvider } from './oauth-flow.ts'

// Which providers are on, and the providers connected to an account: listed without
// anything the provider told us, and disconnected only while another way in remains.
const provider = useFakeOAuthProvider()
const { server, sql, services } = useApiServer(() => ({ APP_URL, ...fakeOAuthEnv(provider()) }))
const bearer = (token: string) => ({ authorization: `Bearer ${token}` })

/** Another API on the same database and Redis, with some providers' settings left out. */
const serverWithout = (...prefixes: Array<'GITHUB_' | 'GOOGLE_'>) => {
  const { database, redis } = services()
  const env = Object.entries(fakeOAuthEnv(provider())).filter(
    ([name]) => !prefixes.some((prefix) => name.startsWith(prefix)),
  )
  return buildTestServer({
    DATABASE_URL: database.appUrl,
    REDIS_URL: redis.url,
    APP_URL,
    ...Object.fromEntries(env),
  })
}

/** Signs in with the provider as this person (a new account on first sign-in). */
async function signInAs(name: 'github' | 'google', person: { id: string; email: string }) {
  provider().setUser({ ...person, emailVerified: true, name: 'Octo Cat' })
  const res = await oauthSignIn(server, provider(), name)
  expect(res.statusCode).toBe(200)
  return res.json() as { token: string; user: { id: string; hasPassword: boolean } }
}
let people = 0
// GitHub's account ids are numbers.
const person = () => ({
  id: String(424_200_000 + ++people),
  email: `octo-${crypto.randomUUID()}@example.com`,
})
const connected = async (token: string, app: FastifyInstance = server) =>
  (await app.inject({ url: '/v1/auth/oauth/accounts', headers: bearer(token) })).json()
const unlink = (token: string, name: string, app: FastifyInstance = server) =>
  app.inject({
    method: 'DELETE',
    url: `/v1/auth/oauth/accounts/${name}`,
    headers: bearer(token),
  })

describe('GET /v1/auth/oauth/providers', () => {
  it('lists the configured providers only, cacheable for a few minutes', async () => {
    const all = await server.inject({ url: '/v1/auth/oauth/providers' })
    expect(all.statusCode).toBe(200)
    expect(all.json()).toEqual({
      data: [
        { provider: 'github', name: 'GitHub' },
        { provider: 'google', name: 'Google' },
      ],
    })
    expect(all.headers['cache-control']).toBe('public, max-age=300')
    for (const [without, expected] of [
      [['GOOGLE_'], [{ provider: 'github', name: 'GitHub' }]],
      [['GITHUB_', 'GOOGLE_'], []],
    ] as const) {
      const app = await serverWithout(...without)
      try {
        expect((await app.inject({ url: '/v1/auth/oauth/providers' })).json()).toEqual({
          data: expected,
        })
      } finally {
        await app.close()
      }
    }
  })
})

describe('connected providers', () => {
  it('are for a signed-in person only: 401 without a session', async () => {
    const anonymous = [
      await server.inject({ url: '/v1/auth/oauth/accounts' }),
      await server.inject({ method: 'DELETE', url: '/v1/auth/oauth/accounts/github' }),
    ]
    expect(anonymous.map((res) => res.statusCode)).toEqual([401, 401])
  })

  it('answers an unknown provider with 400 naming it', async () => {
    const { headers } = await signUpOwner(server)
    const res = await server.inject({
      method: 'DELETE',
      url: '/v1/auth/oauth/accounts/facebook',
      headers,
    })
    expect(res.statusCode).toBe(400)
    expect(res.json().errors).toEqual([expect.objectContaining({ field: 'params.provider' })])
  })

  it('shows an OAuth-created account that it has no password, and which provider it uses', async () => {
    const octo = person()
    const { token, user } = await signInAs('github', octo)
    expect(user).toMatchObject({ hasPassword: false, mfaEnabled: false, platformAdmin: false })
    const list = await server.inject({ url: '/v1/auth/oauth/accounts', headers: bearer(token) })
    expect(list.json()).toEqual({
      data: [{ provider: 'github', connectedAt: expect.any(String) }],
    })
    const [link] = await sql('SELECT created_at FROM oauth_accounts WHERE user_id = $1', [user.id])
    expect(new Date(list.json().data[0].connectedAt)).toEqual(link.created_at)
    // Nothing the provider told us about the person.
    expect(list.body).not.toContain(octo.id)
    expect(list.body).not.toContain(octo.email)
  })

  it('refuses to disconnect the last way to sign in, and disconnects one of two', async () => {
    const octo = person()
    const { token, user } = await signInAs('github', octo)
    const last = await unlink(token, 'github')
    expect(last.statusCode).toBe(409)
    expect(last.json().type).toBe('urn:groundwork:problem:last_sign_in_method')
    expect(last.json().detail).toMatch(/GitHub is your only way to sign in/)
    expect((await unlink(token, 'google')).statusCode).toBe(404)

    // The same verified email at Google links to the same account.
    expect((await signInAs('google', { ...octo, id: `g-${octo.id}` })).user.id).toBe(user.id)
    expect((await unlink(token, 'github')).statusCode).toBe(204)
    expect((await connected(token)).data.map((a: { provider: string }) => a.provider)).toEqual([
      'google',
    ])
    expect((await unlink(token, 'google')).statusCode).toBe(409)
    expect(
      await sql(
        "SELECT metadata FROM audit_logs WHERE action = 'oauth.unlinked' AND actor_user_id = $1",
        [user.id],
      ),
    ).toEqual([{ metadata: { provider: 'github', links: 1 } }])
  })

  it('lets an account with a password disconnect its only provider', async () => {
    const octo = person()
    const signUp = await server.inject({
      method: 'POST',
      url: '/v1/auth/sign-up',
      payload: { email: octo.email, password: 'correct horse battery staple', name: 'P' },
    })
    // Verified, so linking keeps the password (an unverified one would be cleared).
    await sql('UPDATE users SET email_verified_at = now() WHERE email = $1', [octo.email])
    await signInAs('github', octo)
    const token = signUp.json().token as string
    expect((await unlink(token, 'github')).statusCode).toBe(204)
    expect((await connected(token)).data).toEqual([])
  })

  it('does not count a provider that is no longer configured as a way to sign in', async () => {
    const octo = person()
    const { token } = await signInAs('github', octo)
    await signInAs('google', { ...octo, id: `g-${octo.id}` })
    const githubOnly = await serverWithout('GOOGLE_')
    try {
      expect((await unlink(token, 'github', githubOnly)).statusCode).toBe(409)
      // Disconnecting the one that is off leaves the working one: fine.
      expect((await unlink(token, 'google', githubOnly)).statusCode).toBe(204)
    } finally {
      await githubOnly.close()
    }
  })

  it('disconnects only one of two providers when both are disconnected at once', async () => {
    // The fake provider plays one person at a time: the accounts are made one by one.
    const tokens: string[] = []
    for (let i = 0; i < 4; i++) {
      const octo = person()
      tokens.push((await signInAs('github', octo)).token)
      await signInAs('google', { ...octo, id: `g-${octo.id}` })
    }
    const results = await Promise.all(
      tokens.map(async (token) => {
        const both = await Promise.all([unlink(token, 'github'), unlink(token, 'google')])
        return {
          codes: both.map((res) => res.statusCode).sort(),
          left: (await connected(token)).data.length,
        }
      }),
    )
    for (const result of results) expect(result).toEqual({ codes: [204, 409], left: 1 })
  })
})
