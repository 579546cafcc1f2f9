import { describe, expect, it } from 'vitest'
import { addMember, signUpOwner, useApiServer } from './helpers.ts'

// Each test works in organizations of its own, so none depends on what another wrote.
const { server, sql } = useApiServer()

type Headers = { authorization: string }
interface Entry {
  id: string
  action: string
  actor: { id: string; name: string | null; email: string | null } | null
  targetType: string | null
  targetId: string | null
  ipAddress: string | null
  metadata: Record<string, unknown>
  createdAt: string
}

const auditLog = (orgId: string, headers: Headers, query = '') =>
  server.inject({ url: `/v1/orgs/${orgId}/audit-log${query ? `?${query}` : ''}`, headers })
const entries = async (orgId: string, headers: Headers, query = '') => {
  const res = await auditLog(orgId, headers, query)
  expect(res.statusCode, res.body).toBe(200)
  return res.json().data as Entry[]
}
const verified = async (userId: string) =>
  sql('UPDATE users SET email_verified_at = now() WHERE id = $1', [userId])

/** Writes entries as the database owner, at chosen times: the API only reads them. */
async function plant(
  orgId: string,
  rows: Array<{ action?: string; actorId: string; targetType?: string; at: string }>,
) {
  for (const row of rows)
    await sql(
      `INSERT INTO audit_logs (id, organization_id, actor_user_id, action, target_type, created_at)
       VALUES (gen_random_uuid(), $1, $2, $3, $4, $5)`,
      [orgId, row.actorId, row.action ?? 'test.planted', row.targetType ?? null, row.at],
    )
}

describe('the audit log', () => {
  it("shows an owner their organization's events, newest first, actors who are members named", async () => {
    const owner = await signUpOwner(server, 'Audited')
    await verified(owner.userId)
    const { orgId, headers } = owner
    const invited = await server.inject({
      method: 'POST',
      url: `/v1/orgs/${orgId}/invitations`,
      headers,
      payload: { email: 'audited-invitee@example.com', role: 'member' },
    })
    expect(invited.statusCode).toBe(201)
    const member = await addMember(server, sql, orgId)
    const promoted = await server.inject({
      method: 'PATCH',
      url: `/v1/orgs/${orgId}/members/${member.userId}`,
      headers,
      payload: { role: 'admin' },
    })
    expect(promoted.statusCode).toBe(200)
    const project = await server.inject({
      method: 'POST',
      url: `/v1/orgs/${orgId}/projects`,
      headers,
      payload: { name: 'Short-lived' },
    })
    const deleted = await server.inject({
      method: 'DELETE',
      url: `/v1/orgs/${orgId}/projects/${project.json().id}`,
      headers,
    })
    expect(deleted.statusCode).toBe(204)

    const log = await entries(orgId, headers)
    expect(log.map((e) => e.action)).toEqual([
      'project.deleted',
      'member.role_changed',
      'invitation.created',
      'organization.created',
    ])
    const me = { id: owner.userId, name: 'Olive Owner', email: expect.stringMatching(/^owner-/) }
    expect(log[1]).toEqual({
      id: expect.any(String),
      action: 'member.role_changed',
      actor: me,
      targetType: 'user',
      targetId: member.userId,
      ipAddress: '127.0.0.1',
      metadata: { from: 'member', to: 'admin' },
      createdAt: expect.any(String),
    })
    expect(log[0]).toMatchObject({ targetType: 'project', metadata: { name: 'Short-lived' } })
    expect(log[2]).toMatchObject({ metadata: { email: 'audited-invitee@example.com' } })
  })

  it("never shows account events, not even the caller's own sign-ups and sign-ins", async () => {
    const { orgId, headers, userId } = await signUpOwner(server, 'Private')
    // Row-level security shows these to their user in any context: the route must not.
    const own = await sql(
      'SELECT action FROM audit_logs WHERE organization_id IS NULL AND actor_user_id = $1',
      [userId],
    )
    expect(own.map((row) => (row as { action: string }).action)).toContain('user.signed_up')
    const log = await entries(orgId, headers, `actorUserId=${userId}`)
    expect(log.map((e) => e.action)).toEqual(['organization.created'])
  })

  it('lets admins read it, with IP addresses only of their own actions; members get 403', async () => {
    const owner = await signUpOwner(server, 'Shared')
    const admin = await addMember(server, sql, owner.orgId, 'admin')
    await verified(admin.userId)
    const invited = await server.inject({
      method: 'POST',
      url: `/v1/orgs/${owner.orgId}/invitations`,
      headers: admin.headers,
      payload: { email: 'by-admin@example.com', role: 'member' },
    })
    expect(invited.statusCode).toBe(201)

    const seenByAdmin = await entries(owner.orgId, admin.headers)
    expect(seenByAdmin.map((e) => [e.action, e.actor?.id, e.ipAddress])).toEqual([
      ['invitation.created', admin.userId, '127.0.0.1'],
      ['organization.created', owner.userId, null],
    ])
    const seenByOwner = await entries(owner.orgId, owner.headers)
    expect(seenByOwner.map((e) => e.ipAddress)).toEqual(['127.0.0.1', '127.0.0.1'])

    const member = await addMember(server, sql, owner.orgId, 'member')
    const refused = await auditLog(owner.orgId, member.headers)
    expect(refused.statusCode).toBe(403)
    expect(refused.headers['content-type']).toMatch(/^application\/problem\+json/)
  })

  it('names a former member by id only', async () => {
    const owner = await signUpOwner(server, 'Left')
    const member = await addMember(server, sql, owner.orgId)
    const left = await server.inject({
      method: 'DELETE',
      url: `/v1/orgs/${owner.orgId}/members/${member.userId}`,
      headers: member.headers,
    })
    expect(left.statusCode).toBe(204)
    const [entry] = await entries(owner.orgId, owner.headers, 'action=member.left')
    expect(entry?.actor).toEqual({ id: member.userId, name: null, email: null })

    // One whose removal waits for their tasks to be unassigned has no access either.
    const leaving = await addMember(server, sql, owner.orgId)
    await plant(owner.orgId, [
      { action: 'test.before_removal', actorId: leaving.userId, at: '2001-01-01' },
    ])
    await sql('UPDATE memberships SET removal_requested_at = now() WHERE user_id = $1', [
      leaving.userId,
    ])
    const [pending] = await entries(owner.orgId, owner.headers, 'action=test.before_removal')
    expect(pending?.actor).toEqual({ id: leaving.userId, name: null, email: null })
  })

  it("answers 404 for another organization's log and never shows its rows", async () => {
    const a = await signUpOwner(server, 'Tenant A')
    const b = await signUpOwner(server, 'Tenant B')
    // A's owner acts in B as well: B's entries carry an actor A can read about.
    await sql(
      `INSERT INTO memberships (id, organization_id, user_id, role, updated_at)
       VALUES (gen_random_uuid(), $1, $2, 'admin', now())`,
      [b.orgId, a.userId],
    )
    await plant(b.orgId, [{ actorId: a.userId, at: '2001-01-01' }])
    const member = await addMember(server, sql, a.orgId, 'admin')
    const outsider = await auditLog(b.orgId, member.headers)
    expect(outsider.statusCode).toBe(404)
    expect(outsider.body).not.toContain('Tenant B')

    const bIds = (await sql('SELECT id FROM audit_logs WHERE organization_id = $1', [b.orgId])).map(
      (row) => (row as { id: string }).id,
    )
    expect(bIds.length).toBeGreaterThanOrEqual(2)
    const seen = await entries(a.orgId, a.headers, `limit=100&actorUserId=${a.userId}`)
    expect(seen.map((e) => e.action)).toEqual(['organization.created'])
    expect(seen.map((e) => e.id).filter((id) => bIds.includes(id))).toEqual([])
  })
})

describe('audit log filters', () => {
  it('filter by exact action, action prefix, actor, target type and time window', async () => {
    const { orgId, headers, userId } = await signUpOwner(server, 'Filtered')
    const other = await addMember(server, sql, orgId)
    const [me, them] = [userId, other.userId]
    await plant(orgId, [
      { action: 'member.role_changed', actorId: me, targetType: 'user', at: '2001-01-01T10:00Z' },
      { action: 'member.removed', actorId: them, targetType: 'user', at: '2001-01-02T10:00Z' },
      { action: 'api_key.created', actorId: me, targetType: 'api_key', at: '2001-01-03T10:00Z' },
      // `_` is a LIKE wildcard: the prefix api_key. must not match this.
      { action: 'apixkey.created', actorId: me, targetType: 'api_key', at: '2001-01-04T10:00Z' },
      { action: 'membership.other', actorId: them, at: '2001-01-05T10:00Z' },
    ])
    const actions = async (query: string) =>
      (await entries(orgId, headers, query)).map((e) => e.action)

    expect(await actions('action=member.removed')).toEqual(['member.removed'])
    expect(await actions('action=member.')).toEqual(['member.removed', 'member.role_changed'])
    expect(await actions('action=api_key.')).toEqual(['api_key.created'])
    expect(await actions('action=member')).toEqual([])
    expect(await actions(`actorUserId=${other.userId}`)).toEqual([
      'membership.other',
      'member.removed',
    ])
    expect(await actions('targetType=api_key')).toEqual(['apixkey.created', 'api_key.created'])
    expect(await actions('since=2001-01-02T10:00:00Z&until=2001-01-04T10:00:00Z')).toEqual([
      'api_key.created',
      'member.removed',
    ])
    // Offsets count: 12:00 at +02:00 is 10:00 UTC, the instant of api_key.created.
    expect(await actions('since=2001-01-03T12:00:00%2B02:00&until=2001-01-04T00:00:00Z')).toEqual([
      'api_key.created',
    ])
    expect(
      await actions(`action=member.&actorUserId=${userId}&since=2001-01-01T00:00:00Z`),
    ).toEqual(['member.role_changed'])
  })

  it('page through every entry exactly once, newest first, when timestamps tie', async () => {
    const { orgId, headers, userId } = await signUpOwner(server, 'Paged log')
    await sql(
      `INSERT INTO audit_logs (id, organization_id, actor_user_id, action, created_at)
       SELECT gen_random_uuid(), $1, $2, 'test.tied', '2001-06-01T00:00:00Z' FROM generate_series(1, 24)`,
      [orgId, userId],
    )
    const seen: Entry[] = []
    let cursor: string | null = null
    let pages = 0
    do {
      const query: string = `limit=7&until=2002-01-01T00:00:00Z${cursor ? `&cursor=${cursor}` : ''}`
      const res = await auditLog(orgId, headers, query)
      expect(res.statusCode, res.body).toBe(200)
      seen.push(...res.json().data)
      cursor = res.json().nextCursor
      pages++
    } while (cursor)
    expect(pages).toBe(4)
    expect(seen).toHaveLength(24)
    expect(new Set(seen.map((e) => e.id)).size).toBe(24)
    const inOrder = (await sql(
      `SELECT id FROM audit_logs WHERE organization_id = $1 AND action = 'test.tied'
       ORDER BY created_at DESC, id DESC`,
      [orgId],
    )) as Array<{ id: string }>
    expect(seen.map((e) => e.id)).toEqual(inOrder.map((row) => row.id))
    // The organization.created entry is newer than the window: without it, first.
    const all = await entries(orgId, headers, 'limit=100')
    expect(all).toHaveLength(25)
    expect(all[0]?.action).toBe('organization.created')
  })

  it('take the first and last instants of the calendar they accept', async () => {
    const { orgId, headers } = await signUpOwner(server, 'Calendar')
    const query = 'since=0001-01-01T00:00:00Z&until=9999-12-31T23:59:59.999Z'
    expect((await entries(orgId, headers, query)).map((e) => e.action)).toEqual([
      'organization.created',
    ])
  })

  it.each([
    ['limit=101', 'querystring.limit'],
    ['limit=99999999999999999999', 'querystring.limit'],
    ['limit=-1', 'querystring.limit'],
    ['cursor=not-a-cursor', 'querystring.cursor'],
    [
      `cursor=${Buffer.from('["createdAt","2001-01-01T00:00:00.000Z","x"]').toString('base64url')}`,
      'querystring.cursor',
    ],
    [
      `cursor=${Buffer.from(`["-createdAt","0000-01-01",null]`).toString('base64url')}`,
      'querystring.cursor',
    ],
    ['since=yesterday', 'querystring.since'],
    ['since=2001-01-01', 'querystring.since'],
    ['since=2001-01-01T00:00:00', 'querystring.since'],
    ['since=0000-01-01T00:00:00Z', 'querystring.since'],
    ['until=0001-01-01T00:00:00%2B01:00', 'querystring.until'],
    ['until=9999-12-31T23:00:00-02:00', 'querystring.until'],
    ['since=2001-01-02T00:00:00Z&until=2001-01-01T00:00:00Z', 'querystring.until'],
    [`action=${encodeURIComponent("' OR 1=1 --")}`, 'querystring.action'],
    ['action=%25', 'querystring.action'],
    [`action=${'a'.repeat(65)}`, 'querystring.action'],
    ['actorUserId=1%3BDROP%20TABLE%20audit_logs', 'querystring.actorUserId'],
    [`targetType=${encodeURIComponent('user; --')}`, 'querystring.targetType'],
    ['organizationId=00000000-0000-0000-0000-000000000000', 'querystring'],
  ])('answers 400 naming the field for ?%s', async (query, field) => {
    const { orgId, headers } = await signUpOwner(server, 'Hostile')
    const res = await auditLog(orgId, headers, query)
    expect(res.statusCode, res.body).toBe(400)
    expect(res.headers['content-type']).toMatch(/^application\/problem\+json/)
    expect(res.json().errors.map((e: { field: string }) => e.field)).toContain(field)
  })
})
