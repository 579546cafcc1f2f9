import type { FastifyContextConfig } from 'fastify'
import pg from 'pg'
import { beforeAll, describe, expect, it, vi } from 'vitest'
import type { Access } from '../src/plugins/app/access.ts'
import { forgetAccess, useApiServer } from './helpers.ts'

// Every route as declared, config included (the server keeps only its access rule): the
// real Fastify, with an onRoute hook added the moment an instance is created.
const declared = vi.hoisted(
  () => [] as Array<{ method: string | string[]; url: string; config?: FastifyContextConfig }>,
)
vi.mock('fastify', async (importOriginal) => {
  const actual = await importOriginal<typeof import('fastify')>()
  const create = ((options: Parameters<typeof actual.default>[0]) => {
    const instance = actual.default(options)
    instance.addHook('onRoute', ({ method, url, config }) => {
      declared.push({ method, url, config })
    })
    return instance
  }) as typeof actual.default
  return { ...actual, default: create, fastify: create }
})

// Generated from the routes themselves: every route declares its access rule, and for
// every route this checks that (a) without credentials it answers 401 unless public,
// (b) a member of another organization gets 404 for this organization's ids, (c) a role
// below the requirement gets 403. A new route is covered the moment it is added.
const { server, services } = useApiServer()
const users = {} as Record<'owner' | 'admin' | 'member' | 'outsider', { authorization: string }>
let orgId = ''
// A real value for every route parameter, so each route reaches the check under test
// instead of failing id validation first (a route with a new parameter fails until it has one).
const ids: Record<string, string> = {}
const keys = { all: '', none: '', otherOrg: '' }

const RANK = { member: 1, admin: 2, owner: 3 } as const

beforeAll(async () => {
  for (const name of ['owner', 'admin', 'member', 'outsider'] as const) {
    const res = await server.inject({
      method: 'POST',
      url: '/v1/auth/sign-up',
      payload: { email: `${name}@matrix.test`, password: 'correct horse battery staple', name },
    })
    users[name] = { authorization: `Bearer ${res.json().token}` }
  }
  orgId = (
    await server.inject({
      method: 'POST',
      url: '/v1/orgs',
      headers: users.owner,
      payload: { name: 'Matrix' },
    })
  ).json().id
  // The outsider owns an organization of their own: a real member of *another* tenant.
  await server.inject({
    method: 'POST',
    url: '/v1/orgs',
    headers: users.outsider,
    payload: { name: 'Elsewhere' },
  })
  // Memberships for admin and member, written as the owner login (invitations come later).
  const client = new pg.Client({ connectionString: services().database.url })
  await client.connect()
  await client.query(
    `INSERT INTO memberships (id, organization_id, user_id, role, updated_at)
     SELECT gen_random_uuid(), $1, id, email_role::membership_role, now()
     FROM (SELECT id, split_part(email, '@', 1) AS email_role FROM users WHERE email IN ('admin@matrix.test', 'member@matrix.test')) u`,
    [orgId],
  )
  await client.query(
    "UPDATE users SET email_verified_at = now() WHERE email IN ('owner@matrix.test', 'outsider@matrix.test')",
  )
  await client.end()
  // Behind the API's back: the server forgets the users it kept (ADR 035).
  forgetAccess(server)
  const key = async (headers: { authorization: string }, org: string, scopes: string[]) =>
    (
      await server.inject({
        method: 'POST',
        url: `/v1/orgs/${org}/api-keys`,
        headers,
        payload: { name: 'matrix', scopes },
      })
    ).json().key as string
  const allScopes = ['organization:read', 'members:read', 'projects:read', 'projects:write']
  keys.all = await key(users.owner, orgId, allScopes)
  keys.none = await key(users.owner, orgId, ['organization:read'])
  const outsiderOrg = (await server.inject({ url: '/v1/orgs', headers: users.outsider })).json()
    .data[0].id
  keys.otherOrg = await key(users.outsider, outsiderOrg, allScopes)
  // Real resource ids, so routes below the organization reach their access checks.
  ids.projectId = (
    await server.inject({
      method: 'POST',
      url: `/v1/orgs/${orgId}/projects`,
      headers: users.owner,
      payload: { name: 'Matrix project' },
    })
  ).json().id
  ids.taskId = (
    await server.inject({
      method: 'POST',
      url: `/v1/orgs/${orgId}/projects/${ids.projectId}/tasks`,
      headers: users.owner,
      payload: { title: 'Matrix task' },
    })
  ).json().id
  const me = async (headers: { authorization: string }) =>
    (await server.inject({ url: '/v1/auth/me', headers })).json().id as string
  ids.userId = await me(users.admin)
  ids.apiKeyId = (
    await server.inject({ url: `/v1/orgs/${orgId}/api-keys`, headers: users.owner })
  ).json().data[0].id
  ids.invitationId = (
    await server.inject({
      method: 'POST',
      url: `/v1/orgs/${orgId}/invitations`,
      headers: users.owner,
      payload: { email: 'invitee@matrix.test', role: 'member' },
    })
  ).json().id
  ids.endpointId = (
    await server.inject({
      method: 'POST',
      url: `/v1/orgs/${orgId}/webhook-endpoints`,
      headers: users.owner,
      payload: { url: 'https://93.184.215.15/matrix', events: ['project.created'] },
    })
  ).json().id
  ids.sessionId = (
    await server.inject({ url: '/v1/auth/sessions', headers: users.member })
  ).json().data[0].id
  ids.id = 'matrix-dead-letter'
  ids.provider = 'github'
  ids.queueName = 'dead-letter'
  ids.jobId = 'matrix-job'
  ids.queueStatus = 'failed'
  ids.schedulerId = 'matrix-scheduler'
  const owner = new pg.Client({ connectionString: services().database.url })
  await owner.connect()
  ids.deliveryId = (
    await owner.query(
      `INSERT INTO webhook_deliveries (id, organization_id, endpoint_id, event_id, event_type, payload, status, attempt_count, completed_at)
       VALUES (gen_random_uuid(), $1, $2, 'msg_matrix', 'project.created', '{}', 'failed', 1, now())
       RETURNING id`,
      [orgId, ids.endpointId],
    )
  ).rows[0].id
  await owner.end()
  for (const [name, value] of Object.entries(ids)) expect(value, name).toBeTruthy()
})

function routes() {
  return server.accessRules.filter((rule) => rule.method !== 'HEAD' && rule.method !== 'OPTIONS')
}

/** Parameters that name no resource: the same with or without `ghosts`. */
const NOT_RESOURCES = new Set([
  'orgId',
  'provider',
  'id',
  'queueName',
  'jobId',
  'queueStatus',
  'schedulerId',
])

/** The route with this organization's id and real resource ids (or fresh ones: `ghosts`). */
const urlFor = (template: string, ghosts = false) =>
  template.replace(/:(\w+)/g, (_, name: string) => {
    const value = name === 'orgId' ? orgId : ids[name]
    if (!value) throw new Error(`access matrix: give the route parameter :${name} a real value`)
    return ghosts && !NOT_RESOURCES.has(name) ? crypto.randomUUID() : value
  })
const describeAccess = (access: Access) =>
  typeof access === 'string' ? access : `role ${access.organizationRole}`

describe('the access matrix', () => {
  it('covers every operation in the OpenAPI document', async () => {
    const doc = (await server.inject({ url: '/openapi.json' })).json()
    const declared = new Set(
      routes().map((r) => `${r.method} ${r.url.replace(/:(\w+)/g, '{$1}').replace(/\/$/, '')}`),
    )
    for (const [path, operations] of Object.entries<object>(doc.paths)) {
      for (const method of Object.keys(operations)) {
        expect(declared, `${method.toUpperCase()} ${path}`).toContain(
          `${method.toUpperCase()} ${path.replace(/\/$/, '')}`,
        )
      }
    }
    expect(routes().length).toBeGreaterThan(8)
  })

  it('(a) answers 401 without credentials on every non-public route', async () => {
    const checked: string[] = []
    for (const route of routes()) {
      if (route.access === 'public') continue
      const res = await server.inject({
        method: route.method as 'GET',
        url: urlFor(route.url),
        payload: {},
      })
      expect(res.statusCode, `${route.method} ${route.url}`).toBe(401)
      checked.push(route.url)
    }
    expect(checked.length).toBeGreaterThan(0)
  })

  it('(b) answers 404 to a member of another organization on every organization route', async () => {
    const tenantRoutes = routes().filter((r) => typeof r.access === 'object')
    expect(tenantRoutes.length).toBeGreaterThan(0)
    for (const route of tenantRoutes) {
      const res = await server.inject({
        method: route.method as 'GET',
        url: urlFor(route.url),
        headers: users.outsider,
        payload: {},
      })
      expect(res.statusCode, `${route.method} ${route.url} (${describeAccess(route.access)})`).toBe(
        404,
      )
      expect(res.body).not.toContain('Matrix')
    }
  })

  it('(c) answers 403 to every role below the requirement', async () => {
    let checked = 0
    for (const route of routes()) {
      if (typeof route.access !== 'object') continue
      const required = RANK[route.access.organizationRole]
      for (const role of ['member', 'admin'] as const) {
        if (RANK[role] >= required) continue
        const res = await server.inject({
          method: route.method as 'GET',
          url: urlFor(route.url),
          headers: users[role],
          payload: {},
        })
        expect(res.statusCode, `${role} on ${route.method} ${route.url}`).toBe(403)
        checked++
      }
    }
    expect(checked).toBeGreaterThan(0)
  })
})

describe('an organization being deleted', () => {
  it('(e) answers 409 on every organization route but those that read its state', async () => {
    const closing = (
      await server.inject({
        method: 'POST',
        url: '/v1/orgs',
        headers: users.owner,
        payload: { name: 'Closing' },
      })
    ).json().id as string
    const client = new pg.Client({ connectionString: services().database.url })
    await client.connect()
    await client.query('UPDATE organizations SET deletion_requested_at = now() WHERE id = $1', [
      closing,
    ])
    await client.end()
    forgetAccess(server)
    let closed = 0
    for (const route of routes()) {
      if (typeof route.access !== 'object') continue
      const res = await server.inject({
        method: route.method as 'GET',
        url: urlFor(route.url, true).replace(orgId, closing),
        headers: users.owner,
        payload: {},
      })
      const label = `${route.method} ${route.url}`
      if (route.access.duringDeletion) {
        expect(res.statusCode, label).toBeLessThan(300)
        continue
      }
      expect(res.statusCode, label).toBe(409)
      expect(res.json().type, label).toBe('urn:groundwork:problem:organization_deleting')
      closed++
    }
    expect(closed).toBeGreaterThan(20)
  })
})

describe('organization API keys', () => {
  it('(d) work only on routes that accept keys, with the scope, for their own organization', async () => {
    let accepted = 0
    for (const route of routes()) {
      if (route.access === 'public') continue
      // Writes aim at ids that do not exist: the key must get past access, and change nothing.
      const reads = route.method === 'GET'
      const url = urlFor(route.url, !reads)
      const call = (key: string) =>
        server.inject({
          method: route.method as 'GET',
          url,
          headers: { authorization: `Bearer ${key}` },
          payload: {},
        })
      const label = `${route.method} ${route.url}`
      const scope = typeof route.access === 'object' ? route.access.apiKeyScope : undefined
      if (!scope) {
        expect((await call(keys.all)).statusCode, `${label} refuses keys`).toBe(403)
        continue
      }
      const granted = await call(keys.all)
      if (reads) expect(granted.statusCode, `${label} with the scope`).toBe(200)
      else {
        // Past access: refused for its (empty) body or missing resource, not for the key.
        expect([400, 404, 428], `${label} with the scope`).toContain(granted.statusCode)
        expect(granted.json().detail ?? '', label).not.toMatch(/organization was not found/)
      }
      expect(
        (await call(keys.otherOrg)).statusCode,
        `${label} with another organization's key`,
      ).toBe(404)
      if (scope !== 'organization:read')
        expect((await call(keys.none)).statusCode, `${label} without ${scope}`).toBe(403)
      accepted++
    }
    expect(accepted).toBeGreaterThan(1)
  })
})

describe('foreign ids under your own organization', () => {
  it('answer 404 and change nothing', async () => {
    // Resources of the outsider's organization, addressed through Matrix's URLs.
    const outsiderOrg = (await server.inject({ url: '/v1/orgs', headers: users.outsider })).json()
      .data[0].id
    const foreignKey = (
      await server.inject({ url: `/v1/orgs/${outsiderOrg}/api-keys`, headers: users.outsider })
    ).json().data[0].id
    const invite = await server.inject({
      method: 'POST',
      url: `/v1/orgs/${outsiderOrg}/invitations`,
      headers: users.outsider,
      payload: { email: 'foreign-invitee@example.com', role: 'member' },
    })
    const foreignInvitation = invite.json().id
    const outsiderId = (await server.inject({ url: '/v1/auth/me', headers: users.outsider })).json()
      .id
    const attempts = [
      server.inject({
        method: 'DELETE',
        url: `/v1/orgs/${orgId}/api-keys/${foreignKey}`,
        headers: users.owner,
      }),
      server.inject({
        method: 'DELETE',
        url: `/v1/orgs/${orgId}/invitations/${foreignInvitation}`,
        headers: users.owner,
      }),
      server.inject({
        method: 'POST',
        url: `/v1/orgs/${orgId}/invitations/${foreignInvitation}/resend`,
        headers: users.owner,
      }),
      server.inject({
        method: 'PATCH',
        url: `/v1/orgs/${orgId}/members/${outsiderId}`,
        headers: users.owner,
        payload: { role: 'member' },
      }),
      server.inject({
        method: 'DELETE',
        url: `/v1/orgs/${orgId}/members/${outsiderId}`,
        headers: users.owner,
      }),
    ]
    for (const res of await Promise.all(attempts)) expect(res.statusCode).toBe(404)
    expect(
      (
        await server.inject({
          url: `/v1/orgs/${outsiderOrg}`,
          headers: { authorization: `Bearer ${keys.otherOrg}` },
        })
      ).statusCode,
    ).toBe(200)
    const pending = (
      await server.inject({ url: `/v1/orgs/${outsiderOrg}/invitations`, headers: users.outsider })
    ).json().data
    expect(pending.map((i: { id: string }) => i.id)).toContain(foreignInvitation)
  })
})

describe('organization roles', () => {
  it('let an admin rename and only the owner delete', async () => {
    const renamed = await server.inject({
      method: 'PATCH',
      url: `/v1/orgs/${orgId}`,
      headers: users.admin,
      payload: { name: 'Matrix 2' },
    })
    expect(renamed.json()).toMatchObject({ name: 'Matrix 2', role: 'admin' })
    const owned = (
      await server.inject({
        method: 'POST',
        url: '/v1/orgs',
        headers: users.member,
        payload: { name: 'Mine' },
      })
    ).json()
    const deleted = await server.inject({
      method: 'DELETE',
      url: `/v1/orgs/${owned.id}`,
      headers: users.member,
    })
    expect(deleted.statusCode).toBe(202)
    expect(deleted.json().deletionRequestedAt).toEqual(expect.any(String))
    // Closed at once: its state can be read, and asking again answers the same; nothing
    // else in it answers while a job empties it.
    const state = await server.inject({ url: `/v1/orgs/${owned.id}`, headers: users.member })
    expect(state.json()).toMatchObject({ deletionRequestedAt: deleted.json().deletionRequestedAt })
    const again = await server.inject({
      method: 'DELETE',
      url: `/v1/orgs/${owned.id}`,
      headers: users.member,
    })
    expect(again.json()).toEqual(deleted.json())
    const closed = await server.inject({
      method: 'PATCH',
      url: `/v1/orgs/${owned.id}`,
      headers: users.member,
      payload: { name: 'Still here?' },
    })
    expect(closed.statusCode).toBe(409)
    expect(closed.json().type).toBe('urn:groundwork:problem:organization_deleting')
    const listed = await server.inject({ url: '/v1/orgs', headers: users.member })
    expect(
      listed.json().data.find((o: { id: string }) => o.id === owned.id).deletionRequestedAt,
    ).toEqual(expect.any(String))
  })
})

describe('sensitive actions', () => {
  it('(f) answer 403 step_up_required on every route that needs a recent sign-in, to a session older than 10 minutes', async () => {
    // Someone who may call every one of them: owner of an organization with another
    // member, platform operator, verified email; whose session is 11 minutes old.
    const signUp = await server.inject({
      method: 'POST',
      url: '/v1/auth/sign-up',
      payload: { email: 'stale@matrix.test', password: 'correct horse battery staple', name: 'S' },
    })
    const stale = { authorization: `Bearer ${signUp.json().token}` }
    const staleOrg = (
      await server.inject({
        method: 'POST',
        url: '/v1/orgs',
        headers: stale,
        payload: { name: 'Stale' },
      })
    ).json().id as string
    const memberId = (await server.inject({ url: '/v1/auth/me', headers: users.member })).json().id
    const client = new pg.Client({ connectionString: services().database.url })
    await client.connect()
    await client.query(
      `INSERT INTO memberships (id, organization_id, user_id, role, updated_at)
       VALUES (gen_random_uuid(), $1, $2, 'member', now())`,
      [staleOrg, memberId],
    )
    const userId = signUp.json().user.id
    await client.query(
      'UPDATE users SET email_verified_at = now(), platform_admin = true WHERE id = $1',
      [userId],
    )
    await client.query(
      "UPDATE sessions SET created_at = now() - interval '11 minutes', mfa_verified_at = NULL WHERE user_id = $1",
      [userId],
    )
    await client.end()
    forgetAccess(server)

    // A request each route takes as sensitive (its body valid, for rules that read it).
    const payloads: Record<string, object> = {
      'POST /v1/orgs/:orgId/api-keys': { name: 'CI', scopes: ['projects:read'] },
      'PATCH /v1/orgs/:orgId/members/:userId': { role: 'admin' },
      'POST /v1/orgs/:orgId/invitations': { email: 'invitee@matrix.test', role: 'member' },
      'POST /v1/orgs/:orgId/webhook-endpoints': {
        url: 'https://93.184.215.14/hooks',
        events: ['project.created'],
      },
      // Only a new URL is sensitive.
      'PATCH /v1/orgs/:orgId/webhook-endpoints/:endpointId': { url: 'https://93.184.215.14/new' },
    }
    const sensitive = declared
      .filter((route) => route.config?.recentAuth)
      .flatMap((route) =>
        [route.method]
          .flat()
          .map((method) => ({ method, url: route.url, rule: route.config?.recentAuth })),
      )
      .filter((route) => route.method !== 'HEAD')
    const checked: string[] = []
    for (const route of sensitive) {
      const label = `${route.method} ${route.url}`
      const url = route.url
        .replace(':orgId', staleOrg)
        // Removing someone else (leaving is no sensitive action).
        .replace(':userId', memberId)
        .replace(':id', 'some-dead-letter')
        .replace(':provider', 'github')
        .replace(/:\w+/g, () => crypto.randomUUID())
      const res = await server.inject({
        method: route.method as 'POST',
        url,
        headers: { ...stale, 'if-match': '"1"' },
        ...(payloads[label] ? { payload: payloads[label] } : {}),
      })
      expect(res.statusCode, `${label}: ${res.body}`).toBe(403)
      expect(res.json().type, label).toBe('urn:groundwork:problem:step_up_required')
      checked.push(label)
    }
    // Those docs/security.md names among them, at least.
    expect(checked).toEqual(
      expect.arrayContaining([
        'PATCH /v1/orgs/:orgId/members/:userId',
        'DELETE /v1/orgs/:orgId/members/:userId',
        'POST /v1/orgs/:orgId/invitations',
        'POST /v1/orgs/:orgId/api-keys',
        'DELETE /v1/orgs/:orgId',
        'POST /v1/auth/mfa/totp/setup',
        'DELETE /v1/auth/mfa',
        'DELETE /v1/auth/oauth/accounts/:provider',
        ...Object.keys(payloads),
      ]),
    )
  })
})
