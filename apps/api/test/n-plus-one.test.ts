import { useIsolatedServices } from '@repo/testing'
import type { FastifyInstance } from 'fastify'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildServer } from '../src/build-server.ts'
import { forgetAccess, ownerQuery, signUpOwner, testEnv } from './helpers.ts'

// No N+1: the number of SQL statements a list request sends must not grow with the rows
// it returns. Every statement the app sends is counted per request.
const services = useIsolatedServices()
let server: FastifyInstance
let statements: string[] = []
// Behind the API's back, so nobody announces it: the server forgets what it kept (ADR 035).
const sql = async (query: string, values: unknown[] = []) => {
  const rows = await ownerQuery(services().database.url, query, values)
  if (server) forgetAccess(server)
  return rows
}

beforeAll(async () => {
  const { database, redis } = services()
  server = await buildServer(testEnv({ DATABASE_URL: database.appUrl, REDIS_URL: redis.url }), {
    onQuery: (query) => {
      statements.push(query)
    },
  })
  await server.ready()
})
afterAll(() => server?.close())

async function countStatements(url: string, headers: Record<string, string>) {
  // Every count includes the access check's reads, not whatever the server kept of them.
  forgetAccess(server)
  statements = []
  const res = await server.inject({ url, headers })
  expect(res.statusCode, url).toBe(200)
  return { count: statements.length, rows: (res.json() as { data: unknown[] }).data.length }
}

/** Adds `n` rows of each list's kind for the owner's organization, project and user. */
async function grow(n: number, orgId: string, userId: string, projectId: string) {
  await sql(
    `INSERT INTO projects (id, organization_id, name, updated_at)
     SELECT gen_random_uuid(), $1, 'p-' || gen_random_uuid(), now() FROM generate_series(1, $2::int)`,
    [orgId, n],
  )
  await sql(
    `INSERT INTO tasks (id, organization_id, project_id, title, assignee_id, due_date, updated_at)
     SELECT gen_random_uuid(), $1, $2, 't-' || g, $3, current_date + g, now() FROM generate_series(1, $4::int) g`,
    [orgId, projectId, userId, n],
  )
  await sql(
    `WITH u AS (
       INSERT INTO users (id, email, name, updated_at)
       SELECT gen_random_uuid(), 'n1-' || gen_random_uuid() || '@example.com', 'Member', now() FROM generate_series(1, $2::int)
       RETURNING id)
     INSERT INTO memberships (id, organization_id, user_id, role, updated_at) SELECT gen_random_uuid(), $1, id, 'member', now() FROM u`,
    [orgId, n],
  )
  // Audit entries by as many different members, so their names are looked up too.
  await sql(
    `INSERT INTO audit_logs (id, organization_id, actor_user_id, action)
     SELECT gen_random_uuid(), $1, user_id, 'member.planted' FROM memberships
     WHERE organization_id = $1 ORDER BY created_at DESC LIMIT $2`,
    [orgId, n],
  )
  await sql(
    `INSERT INTO invitations (id, organization_id, email, role, token_hash, invited_by_id, expires_at)
     SELECT gen_random_uuid(), $1, 'inv-' || gen_random_uuid() || '@example.com', 'member', md5(random()::text) || md5(random()::text), $2, now() + interval '1 day'
     FROM generate_series(1, $3::int)`,
    [orgId, userId, n],
  )
  await sql(
    `INSERT INTO api_keys (id, organization_id, name, prefix, secret_hash, scopes, created_by_id)
     SELECT gen_random_uuid(), $1, 'k', substr(md5(random()::text), 1, 12), md5(random()::text) || md5(random()::text), ARRAY['organization:read'], $2
     FROM generate_series(1, $3::int)`,
    [orgId, userId, n],
  )
  await sql(
    `INSERT INTO sessions (id, user_id, token_hash, expires_at, absolute_expires_at)
     SELECT gen_random_uuid(), $1, md5(random()::text) || md5(random()::text), now() + interval '1 day', now() + interval '2 days'
     FROM generate_series(1, $2::int)`,
    [userId, n],
  )
  await sql(
    `WITH o AS (
       INSERT INTO organizations (id, name, updated_at) SELECT gen_random_uuid(), 'Other', now() FROM generate_series(1, $2::int) RETURNING id)
     INSERT INTO memberships (id, organization_id, user_id, role, updated_at) SELECT gen_random_uuid(), id, $1, 'member', now() FROM o`,
    [userId, n],
  )
}

describe('list requests', () => {
  it('send the same number of statements for 3 rows as for 40', async () => {
    const signUp = await server.inject({
      method: 'POST',
      url: '/v1/auth/sign-up',
      payload: {
        email: 'n-plus-one@example.com',
        password: 'correct horse battery staple',
        name: 'Nina',
      },
    })
    const headers = { authorization: `Bearer ${signUp.json().token}` }
    const userId = signUp.json().user.id as string
    const orgId = (
      await server.inject({
        method: 'POST',
        url: '/v1/orgs',
        headers,
        payload: { name: 'Counted' },
      })
    ).json().id as string
    const projectId = (
      await server.inject({
        method: 'POST',
        url: `/v1/orgs/${orgId}/projects`,
        headers,
        payload: { name: 'Counted project' },
      })
    ).json().id as string
    const lists = [
      `/v1/orgs/${orgId}/projects?limit=100`,
      `/v1/orgs/${orgId}/projects/${projectId}/tasks?limit=100&sort=priority`,
      '/v1/orgs?limit=100',
      `/v1/orgs/${orgId}/members?limit=100`,
      `/v1/orgs/${orgId}/invitations?limit=100`,
      `/v1/orgs/${orgId}/api-keys?limit=100`,
      `/v1/orgs/${orgId}/audit-log?limit=100`,
      '/v1/auth/sessions?limit=100',
    ]
    await grow(2, orgId, userId, projectId)
    const small = []
    for (const url of lists) small.push(await countStatements(url, headers))
    await grow(38, orgId, userId, projectId)
    for (const [i, url] of lists.entries()) {
      const large = await countStatements(url, headers)
      // The counter really counts: every list sends statements (its query, COMMIT).
      expect(small[i]?.count ?? 0, url).toBeGreaterThanOrEqual(2)
      expect(large.rows, url).toBeGreaterThan(small[i]?.rows ?? 0)
      expect(
        large.count,
        `${url}: statements for ${small[i]?.rows} rows vs ${large.rows} rows`,
      ).toBe(small[i]?.count)
    }
  })
})

describe('the session check', () => {
  it('reads no second factor: only the routes that show mfaEnabled pay for it', async () => {
    const { headers } = await signUpOwner(server)
    const sent = async (method: 'GET' | 'PATCH', url: string, status: number) => {
      forgetAccess(server)
      statements = []
      const res = await server.inject({ method, url, headers, payload: {} })
      expect(res.statusCode, url).toBe(status)
      return statements
    }
    const readsFactor = (queries: string[]) => queries.filter((q) => q.includes('mfa_factors'))
    // Refused by validation after the session check: what the check alone sends.
    const check = await sent('PATCH', '/v1/auth/me', 400)
    expect(check.length).toBeGreaterThan(0)
    expect(readsFactor(check)).toEqual([])
    const me = await sent('GET', '/v1/auth/me', 200)
    expect(me).toHaveLength(check.length + 1)
    expect(readsFactor(me)).toHaveLength(1)
    const providers = await sent('GET', '/v1/auth/oauth/accounts', 200)
    expect(readsFactor(providers)).toEqual([])
  })
})
