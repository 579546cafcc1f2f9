import { describe, expect, it } from 'vitest'
import { signUpOwner, useApiServer } from './helpers.ts'

// Cursor pagination, the same on every list: default and maximum limit, stable order
// (ties on created_at broken by id), opaque cursor, bad input answered 400.
const { server, sql } = useApiServer()

const owner = () => signUpOwner(server, 'Paged')

describe('cursor pagination', () => {
  it('walks every member exactly once, in a stable order, even when timestamps tie', async () => {
    const { headers, orgId } = await owner()
    // 24 more members, all created in the same millisecond.
    await sql(
      `WITH u AS (
         INSERT INTO users (id, email, name, updated_at)
         SELECT gen_random_uuid(), 'tie' || g || '-' || $2 || '@example.com', 'Tie ' || g, now() FROM generate_series(1, 24) g
         RETURNING id)
       INSERT INTO memberships (id, organization_id, user_id, role, created_at, updated_at)
       SELECT gen_random_uuid(), $1, id, 'member', '2030-01-01T00:00:00Z', now() FROM u`,
      [orgId, orgId.slice(0, 8)],
    )
    const seen: string[] = []
    let cursor: string | null = null
    let pages = 0
    do {
      const url: string = `/v1/orgs/${orgId}/members?limit=7${cursor ? `&cursor=${cursor}` : ''}`
      const res = await server.inject({ url, headers })
      expect(res.statusCode).toBe(200)
      const page = res.json() as { data: Array<{ userId: string }>; nextCursor: string | null }
      expect(page.data.length).toBeLessThanOrEqual(7)
      seen.push(...page.data.map((m) => m.userId))
      cursor = page.nextCursor
      pages++
    } while (cursor)
    expect(pages).toBe(4)
    expect(seen).toHaveLength(25)
    expect(new Set(seen).size).toBe(25)
  })

  it('defaults to 20 and refuses more than 100', async () => {
    const { headers, orgId } = await owner()
    // 120 members in all: more than the default and more than the maximum.
    await sql(
      `WITH u AS (
         INSERT INTO users (id, email, name, updated_at)
         SELECT gen_random_uuid(), 'many' || g || '-' || $2 || '@example.com', 'Many ' || g, now() FROM generate_series(1, 119) g
         RETURNING id)
       INSERT INTO memberships (id, organization_id, user_id, role, updated_at)
       SELECT gen_random_uuid(), $1, id, 'member', now() FROM u`,
      [orgId, orgId.slice(0, 8)],
    )
    const first = await server.inject({ url: `/v1/orgs/${orgId}/members`, headers })
    expect(first.json().data).toHaveLength(20)
    expect(first.json().nextCursor).toEqual(expect.any(String))
    const most = await server.inject({ url: `/v1/orgs/${orgId}/members?limit=100`, headers })
    expect(most.json().data).toHaveLength(100)
    expect(
      (await server.inject({ url: `/v1/orgs/${orgId}/members?limit=101`, headers })).statusCode,
    ).toBe(400)
  })

  it.each([
    ['limit=0', 'querystring.limit'],
    ['limit=abc', 'querystring.limit'],
    ['cursor=not-a-cursor', 'querystring.cursor'],
    [`cursor=${Buffer.from('["yesterday","x"]').toString('base64url')}`, 'querystring.cursor'],
    ['sort=evil', 'querystring'],
  ])('answers 400 naming the field for ?%s', async (query, field) => {
    const { headers, orgId } = await owner()
    const res = await server.inject({ url: `/v1/orgs/${orgId}/members?${query}`, headers })
    expect(res.statusCode).toBe(400)
    expect(res.headers['content-type']).toMatch(/^application\/problem\+json/)
    expect(res.json().errors.map((e: { field: string }) => e.field)).toContain(field)
  })

  it('pages every list the same way', async () => {
    const { headers, orgId } = await owner()
    for (const url of [
      '/v1/orgs',
      `/v1/orgs/${orgId}/members`,
      `/v1/orgs/${orgId}/invitations`,
      '/v1/auth/sessions',
    ]) {
      const res = await server.inject({ url: `${url}?limit=1`, headers })
      expect(res.statusCode, url).toBe(200)
      expect(Object.keys(res.json()).sort(), url).toEqual(['data', 'nextCursor'])
    }
  })
})
