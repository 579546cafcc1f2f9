import pg from 'pg'
import { describe, expect, it } from 'vitest'
import { z } from 'zod'
import { buildServer } from '../src/build-server.ts'
import { testEnv, useApiServer } from './helpers.ts'

const { server, services } = useApiServer()

let n = 0
async function newUser() {
  const res = await server.inject({
    method: 'POST',
    url: '/v1/auth/sign-up',
    payload: {
      email: `org-user${++n}@example.com`,
      password: 'correct horse battery staple',
      name: `User ${n}`,
    },
  })
  return { authorization: `Bearer ${res.json().token}`, id: res.json().user.id as string }
}

describe('organizations', () => {
  it('creates an organization whose creator is its owner', async () => {
    const alice = await newUser()
    const res = await server.inject({
      method: 'POST',
      url: '/v1/orgs',
      headers: { authorization: alice.authorization },
      payload: { name: ' Acme ' },
    })
    expect(res.statusCode).toBe(201)
    expect(res.json()).toMatchObject({ name: 'Acme', role: 'owner' })
    const list = await server.inject({
      url: '/v1/orgs',
      headers: { authorization: alice.authorization },
    })
    expect(list.json()).toEqual({
      data: [expect.objectContaining({ id: res.json().id, role: 'owner' })],
      nextCursor: null,
    })
    const one = await server.inject({
      url: `/v1/orgs/${res.json().id}`,
      headers: { authorization: alice.authorization },
    })
    expect(one.json()).toMatchObject({ id: res.json().id, name: 'Acme' })
    const client = new pg.Client({ connectionString: services().database.url })
    await client.connect()
    const audit = await client.query('SELECT action FROM audit_logs WHERE organization_id = $1', [
      res.json().id,
    ])
    await client.end()
    expect(audit.rows).toEqual([{ action: 'organization.created' }])
  })

  it('answers 404 for another organization, never its data', async () => {
    const alice = await newUser()
    const mallory = await newUser()
    const org = (
      await server.inject({
        method: 'POST',
        url: '/v1/orgs',
        headers: { authorization: alice.authorization },
        payload: { name: 'Secret' },
      })
    ).json()
    const res = await server.inject({
      url: `/v1/orgs/${org.id}`,
      headers: { authorization: mallory.authorization },
    })
    expect(res.statusCode).toBe(404)
    expect(res.body).not.toContain('Secret')
    const list = await server.inject({
      url: '/v1/orgs',
      headers: { authorization: mallory.authorization },
    })
    expect(list.json().data).toEqual([])
  })

  it('applies a role change to the very next request of a session already open', async () => {
    const alice = await newUser()
    const bob = await newUser()
    const org = (
      await server.inject({
        method: 'POST',
        url: '/v1/orgs',
        headers: { authorization: alice.authorization },
        payload: { name: 'Roles' },
      })
    ).json()
    const client = new pg.Client({ connectionString: services().database.url })
    await client.connect()
    await client.query(
      `INSERT INTO memberships (id, organization_id, user_id, role, updated_at)
       VALUES (gen_random_uuid(), $1, $2, 'admin', now())`,
      [org.id, bob.id],
    )
    await client.end()
    const rename = (name: string) =>
      server.inject({
        method: 'PATCH',
        url: `/v1/orgs/${org.id}`,
        headers: { authorization: bob.authorization },
        payload: { name },
      })
    expect((await rename('Renamed by an admin')).statusCode).toBe(200)
    const demoted = await server.inject({
      method: 'PATCH',
      url: `/v1/orgs/${org.id}/members/${bob.id}`,
      headers: { authorization: alice.authorization },
      payload: { role: 'member' },
    })
    expect(demoted.statusCode).toBe(200)
    // Roles are not kept in the session: the same token is a member's now.
    expect((await rename('Renamed by a member')).statusCode).toBe(403)
  })

  it('answers 401 without credentials and 404 for a malformed id', async () => {
    expect(
      (await server.inject({ method: 'POST', url: '/v1/orgs', payload: { name: 'x' } })).statusCode,
    ).toBe(401)
    const alice = await newUser()
    const bad = await server.inject({
      url: "/v1/orgs/1' OR '1'='1",
      headers: { authorization: alice.authorization },
    })
    expect(bad.statusCode).toBe(404)
  })

  it.each([
    [{}],
    [{ name: '' }],
    [{ name: 'x'.repeat(101) }],
    [{ name: 42 }],
    [{ name: 'ok', id: '00000000-0000-0000-0000-000000000000' }],
    [{ name: 'nul\u0000byte' }],
    [{ name: '\u200b\u200b' }],
  ])('rejects a bad body %j with 400', async (payload) => {
    const alice = await newUser()
    const res = await server.inject({
      method: 'POST',
      url: '/v1/orgs',
      headers: { authorization: alice.authorization },
      payload,
    })
    expect(res.statusCode).toBe(400)
  })
})

describe('access rules', () => {
  it('fail the build for a route that declares none', async () => {
    const { database, redis } = services()
    const app = await buildServer(testEnv({ DATABASE_URL: database.appUrl, REDIS_URL: redis.url }))
    expect(() =>
      app.get('/v1/forgotten', { schema: { response: { 200: z.object({}) } } }, async () => ({})),
    ).toThrow('GET /v1/forgotten declares no access rule')
    await app.close()
  })

  it("fail the build for an organization's route open to anyone signed in", async () => {
    const { database, redis } = services()
    const app = await buildServer(testEnv({ DATABASE_URL: database.appUrl, REDIS_URL: redis.url }))
    for (const access of ['authenticated', 'public'] as const)
      expect(() =>
        app.get(
          `/v1/orgs/:orgId/labels-${access}`,
          { config: { access }, schema: { response: { 200: z.object({}) } } },
          async () => ({}),
        ),
      ).toThrow(`has :orgId but access '${access}'`)
    // The reverse was already refused: a role without :orgId.
    expect(() =>
      app.get(
        '/v1/labels',
        { config: { access: { organizationRole: 'member' } } },
        async () => ({}),
      ),
    ).toThrow('requires an organization role but has no :orgId')
    await app.close()
  })
})
