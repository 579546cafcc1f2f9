import { openWebhookSecret } from '@repo/core'
import { describe, expect, it } from 'vitest'
import { addMember, signUpOwner, useApiServer } from './helpers.ts'

// Managing outgoing webhooks through the API, against real Postgres and Redis: endpoints
// with the SSRF guard on (the default), secrets shown once and stored sealed, events
// recorded in the change's own transaction, and every path a caller can get wrong.
const { server, sql } = useApiServer()

// A public address needs no DNS: the guard accepts it without network access.
const PUBLIC_URL = 'https://93.184.215.14/hooks/groundwork'

async function verifiedAdmin(name = 'Hooks') {
  const owner = await signUpOwner(server, name)
  await sql('UPDATE users SET email_verified_at = now() WHERE id = $1', [owner.userId])
  return owner
}

async function createEndpoint(
  owner: { headers: Record<string, string>; orgId: string },
  payload: Record<string, unknown> = { url: PUBLIC_URL, events: ['project.created'] },
) {
  return server.inject({
    method: 'POST',
    url: `/v1/orgs/${owner.orgId}/webhook-endpoints`,
    headers: owner.headers,
    payload,
  })
}

const outboxEvents = async (orgId: string) =>
  (await sql(
    `SELECT data->'payload'->>'type' AS type FROM outbox_messages
     WHERE organization_id = $1 AND job_name = 'webhooks.event' ORDER BY created_at`,
    [orgId],
  )) as { type: string }[]

describe('webhook endpoints', () => {
  it('are registered with a secret shown once, read, listed, changed with If-Match and deleted', async () => {
    const owner = await verifiedAdmin()
    const created = await createEndpoint(owner, {
      url: PUBLIC_URL,
      description: 'CRM sync',
      events: ['project.created', 'task.updated', 'project.created'],
    })
    expect(created.statusCode).toBe(201)
    const endpoint = created.json()
    expect(endpoint).toMatchObject({
      url: PUBLIC_URL,
      description: 'CRM sync',
      events: ['project.created', 'task.updated'],
      enabled: true,
      consecutiveFailures: 0,
      version: 1,
    })
    expect(endpoint.secret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/)
    expect(created.headers.location).toBe(
      `/v1/orgs/${owner.orgId}/webhook-endpoints/${endpoint.id}`,
    )
    expect(created.headers.etag).toBe('"1"')

    // Stored sealed: the database never holds the secret in the clear.
    const [row] = (await sql('SELECT secret FROM webhook_endpoints WHERE id = $1', [
      endpoint.id,
    ])) as { secret: Buffer }[]
    expect(row?.secret.toString('latin1')).not.toContain(endpoint.secret.slice(6, 20))

    const read = await server.inject({ url: created.headers.location, headers: owner.headers })
    expect(read.statusCode).toBe(200)
    expect(read.json()).not.toHaveProperty('secret')
    const list = await server.inject({
      url: `/v1/orgs/${owner.orgId}/webhook-endpoints`,
      headers: owner.headers,
    })
    expect(list.json().data.map((e: { id: string }) => e.id)).toEqual([endpoint.id])

    const withoutIfMatch = await server.inject({
      method: 'PATCH',
      url: created.headers.location,
      headers: owner.headers,
      payload: { description: 'x' },
    })
    expect(withoutIfMatch.statusCode).toBe(428)
    const disabled = await server.inject({
      method: 'PATCH',
      url: created.headers.location,
      headers: { ...owner.headers, 'if-match': '"1"' },
      payload: { enabled: false, events: ['task.deleted'] },
    })
    expect(disabled.statusCode).toBe(200)
    expect(disabled.json()).toMatchObject({
      enabled: false,
      disabledReason: 'Disabled by an administrator.',
      events: ['task.deleted'],
      version: 2,
    })
    const stale = await server.inject({
      method: 'PATCH',
      url: created.headers.location,
      headers: { ...owner.headers, 'if-match': '"1"' },
      payload: { enabled: true },
    })
    expect(stale.statusCode).toBe(412)
    await sql('UPDATE webhook_endpoints SET consecutive_failures = 3 WHERE id = $1', [endpoint.id])
    const enabled = await server.inject({
      method: 'PATCH',
      url: created.headers.location,
      headers: { ...owner.headers, 'if-match': '"2"' },
      payload: { enabled: true },
    })
    expect(enabled.json()).toMatchObject({
      enabled: true,
      disabledAt: null,
      consecutiveFailures: 0,
    })

    const deleted = await server.inject({
      method: 'DELETE',
      url: created.headers.location,
      headers: owner.headers,
    })
    expect(deleted.statusCode).toBe(204)
    const gone = await server.inject({ url: created.headers.location, headers: owner.headers })
    expect(gone.statusCode).toBe(404)
    const audit = (await sql(
      `SELECT action FROM audit_logs WHERE target_id = $1 ORDER BY created_at, action`,
      [endpoint.id],
    )) as { action: string }[]
    expect(audit.map((a) => a.action)).toEqual([
      'webhook_endpoint.created',
      'webhook_endpoint.updated',
      'webhook_endpoint.updated',
      'webhook_endpoint.deleted',
    ])
  })

  it('show an open circuit (sending paused) and close it when the endpoint is turned back on or moved', async () => {
    const owner = await verifiedAdmin()
    const endpoint = (await createEndpoint(owner)).json()
    const location = `/v1/orgs/${owner.orgId}/webhook-endpoints/${endpoint.id}`
    expect(endpoint.circuitOpenUntil).toBeNull()
    const pause = () =>
      sql(
        `UPDATE webhook_endpoints SET failed_attempts_in_row = 4,
           circuit_open_until = now() + interval '5 minutes' WHERE id = $1`,
        [endpoint.id],
      )
    await pause()
    const paused = (await server.inject({ url: location, headers: owner.headers })).json()
    expect(Date.parse(paused.circuitOpenUntil)).toBeGreaterThan(Date.now())

    // Turned back on by an admin: sent to at once.
    await server.inject({
      method: 'PATCH',
      url: location,
      headers: { ...owner.headers, 'if-match': '"1"' },
      payload: { enabled: false },
    })
    const enabled = await server.inject({
      method: 'PATCH',
      url: location,
      headers: { ...owner.headers, 'if-match': '"2"' },
      payload: { enabled: true },
    })
    expect(enabled.json()).toMatchObject({ enabled: true, circuitOpenUntil: null })
    // Pointed at another URL: the old address's failures say nothing of the new one.
    await pause()
    const moved = await server.inject({
      method: 'PATCH',
      url: location,
      headers: { ...owner.headers, 'if-match': '"3"' },
      payload: { url: 'https://93.184.215.15/hooks' },
    })
    expect(moved.json()).toMatchObject({ circuitOpenUntil: null })
    expect(
      await sql(
        'SELECT failed_attempts_in_row, circuit_open_until FROM webhook_endpoints WHERE id = $1',
        [endpoint.id],
      ),
    ).toEqual([{ failed_attempts_in_row: 0, circuit_open_until: null }])
  })

  it('rotate the secret: a new one shown once, the previous one kept for the grace period', async () => {
    const owner = await verifiedAdmin()
    const endpoint = (await createEndpoint(owner)).json()
    const rotated = await server.inject({
      method: 'POST',
      url: `/v1/orgs/${owner.orgId}/webhook-endpoints/${endpoint.id}/rotate-secret`,
      headers: owner.headers,
    })
    expect(rotated.statusCode).toBe(200)
    expect(rotated.json().secret).toMatch(/^whsec_/)
    expect(rotated.json().secret).not.toBe(endpoint.secret)
    const graceEnds = Date.parse(rotated.json().previousSecretExpiresAt)
    expect(graceEnds - Date.now()).toBeGreaterThan(23 * 3_600_000)
    expect(graceEnds - Date.now()).toBeLessThanOrEqual(24 * 3_600_000)
    expect(rotated.json().version).toBe(2)
    // What the worker signs with: the new secret, and the old one beside it until then.
    const [row] = (await sql(
      'SELECT secret, previous_secret, previous_secret_expires_at FROM webhook_endpoints WHERE id = $1',
      [endpoint.id],
    )) as { secret: Buffer; previous_secret: Buffer | null; previous_secret_expires_at: Date }[]
    const open = (sealed: Buffer | null | undefined) =>
      sealed ? openWebhookSecret(server.deps.secretsKey, sealed) : null
    expect(open(row?.secret)).toBe(rotated.json().secret)
    expect(open(row?.previous_secret)).toBe(endpoint.secret)
    expect(row?.previous_secret_expires_at.getTime()).toBe(graceEnds)
  })

  it('refuse URLs that lead inside the network (SSRF), and malformed ones, with 422 or 400', async () => {
    const owner = await verifiedAdmin()
    const refused = [
      'https://127.0.0.1/hook',
      'https://localhost/hook',
      'https://[::1]/hook',
      'https://[::ffff:127.0.0.1]/hook',
      'https://[::7f00:1]/hook',
      'https://[::a9fe:a9fe]/latest/meta-data',
      'https://169.254.169.254/latest/meta-data',
      'https://10.1.2.3/hook',
      'https://192.168.0.10/hook',
      'https://100.64.0.1/hook',
      'https://0.0.0.0/hook',
      'https://2130706433/hook',
      'https://0x7f.1/hook',
      'https://224.0.0.1/hook',
      'https://[ff02::1]/hook',
      'https://240.0.0.1/hook',
      'https://255.255.255.255/hook',
      'https://198.18.0.1/hook',
      'https://[fc00::1]/hook',
      'https://metadata.google.internal/hook',
      'https://intranet/hook',
      'https://no-such-host.invalid/hook',
      'http://93.184.215.14/hook',
      'https://user:pass@93.184.215.14/hook',
      'https://93.184.215.14/hook#fragment',
      'ftp://93.184.215.14/hook',
      'javascript:alert(1)',
      'not a url',
      `https://93.184.215.14/${'a'.repeat(2_000)}`,
    ]
    for (const url of refused) {
      const res = await createEndpoint(owner, { url, events: ['project.created'] })
      expect([400, 422], url).toContain(res.statusCode)
      expect(res.headers['content-type'], url).toContain('application/problem+json')
      expect(res.body, url).not.toMatch(/at .*\.ts:\d+/)
    }
    const ssrf = await createEndpoint(owner, {
      url: 'https://169.254.169.254/x',
      events: ['project.created'],
    })
    expect(ssrf.json()).toMatchObject({
      status: 422,
      type: 'urn:groundwork:problem:invalid_webhook_url',
    })
    expect(ssrf.json().detail).toContain('not a public one')
    // And a change of URL is checked the same way.
    const endpoint = (await createEndpoint(owner)).json()
    const changed = await server.inject({
      method: 'PATCH',
      url: `/v1/orgs/${owner.orgId}/webhook-endpoints/${endpoint.id}`,
      headers: { ...owner.headers, 'if-match': '"1"' },
      payload: { url: 'https://[fd00::1]/hook' },
    })
    expect(changed.statusCode).toBe(422)
    expect(
      await sql('SELECT count(*)::int AS n FROM webhook_endpoints WHERE organization_id = $1', [
        owner.orgId,
      ]),
    ).toEqual([{ n: 1 }])
  })

  it('refuse unknown or empty event lists, unknown fields, and hostile strings as values', async () => {
    const owner = await verifiedAdmin()
    for (const payload of [
      { url: PUBLIC_URL, events: [] },
      { url: PUBLIC_URL, events: ['project.exploded'] },
      { url: PUBLIC_URL, events: 'project.created' },
      { url: PUBLIC_URL },
      { url: PUBLIC_URL, events: ['project.created'], secret: 'whsec_mine' },
      { url: 42, events: ['project.created'] },
      { url: "https://93.184.215.14/'; DROP TABLE webhook_endpoints; --", events: [7] },
    ]) {
      const res = await createEndpoint(owner, payload)
      expect(res.statusCode, JSON.stringify(payload)).toBe(400)
    }
    // Injection text in the path is just text: stored and returned as given.
    const odd = await createEndpoint(owner, {
      url: "https://93.184.215.14/x?q=';DROP TABLE users;--",
      description: '<script>alert(1)</script>',
      events: ['task.created'],
    })
    expect(odd.statusCode).toBe(201)
    expect(odd.json().description).toBe('<script>alert(1)</script>')
  })

  it('are for admins with a verified email and a recent sign-in; members, keys and other tenants are refused', async () => {
    const owner = await signUpOwner(server, 'Unverified')
    const unverified = await createEndpoint(owner)
    expect(unverified.statusCode).toBe(403)
    expect(unverified.json().type).toBe('urn:groundwork:problem:email_not_verified')

    await sql('UPDATE users SET email_verified_at = now() WHERE id = $1', [owner.userId])
    const member = await addMember(server, sql, owner.orgId, 'member')
    await sql('UPDATE users SET email_verified_at = now() WHERE id = $1', [member.userId])
    const asMember = await createEndpoint({ ...member, orgId: owner.orgId })
    expect(asMember.statusCode).toBe(403)
    const memberList = await server.inject({
      url: `/v1/orgs/${owner.orgId}/webhook-endpoints`,
      headers: member.headers,
    })
    expect(memberList.statusCode).toBe(403)

    const endpoint = (await createEndpoint(owner)).json()
    const other = await verifiedAdmin('Other')
    for (const url of [
      `/v1/orgs/${other.orgId}/webhook-endpoints/${endpoint.id}`,
      `/v1/orgs/${other.orgId}/webhook-endpoints/${endpoint.id}/deliveries`,
    ]) {
      const res = await server.inject({ url, headers: other.headers })
      expect(res.statusCode, url).toBe(404)
    }
    const foreignRotate = await server.inject({
      method: 'POST',
      url: `/v1/orgs/${other.orgId}/webhook-endpoints/${endpoint.id}/rotate-secret`,
      headers: other.headers,
    })
    expect(foreignRotate.statusCode).toBe(404)
    const foreignOrg = await server.inject({
      url: `/v1/orgs/${owner.orgId}/webhook-endpoints`,
      headers: other.headers,
    })
    expect(foreignOrg.statusCode).toBe(404)

    // A stale session (signed in over ten minutes ago, no step-up) may not mint secrets.
    await sql(`UPDATE sessions SET created_at = now() - interval '1 hour' WHERE user_id = $1`, [
      owner.userId,
    ])
    const stale = await createEndpoint(owner)
    expect(stale.statusCode).toBe(403)
    expect(stale.json().type).toBe('urn:groundwork:problem:step_up_required')
  })

  it('change URL only with a verified email and a recent sign-in, the audit log keeping both URLs', async () => {
    const owner = await verifiedAdmin()
    const endpoint = (await createEndpoint(owner)).json()
    const url = `/v1/orgs/${owner.orgId}/webhook-endpoints/${endpoint.id}`
    const moveTo = (target: string, version: number) =>
      server.inject({
        method: 'PATCH',
        url,
        headers: { ...owner.headers, 'if-match': `"${version}"` },
        payload: { url: target },
      })
    const moved = await moveTo('https://93.184.215.15/new', 1)
    expect(moved.statusCode).toBe(200)
    const [entry] = (await sql(
      `SELECT metadata FROM audit_logs WHERE target_id = $1 AND action = 'webhook_endpoint.updated'`,
      [endpoint.id],
    )) as { metadata: Record<string, unknown> }[]
    expect(entry?.metadata).toMatchObject({
      changed: ['url'],
      url: { from: PUBLIC_URL, to: 'https://93.184.215.15/new' },
    })

    await sql('UPDATE users SET email_verified_at = NULL WHERE id = $1', [owner.userId])
    const unverified = await moveTo('https://93.184.215.16/x', 2)
    expect(unverified.statusCode).toBe(403)
    expect(unverified.json().type).toBe('urn:groundwork:problem:email_not_verified')
    // Other changes need neither.
    const described = await server.inject({
      method: 'PATCH',
      url,
      headers: { ...owner.headers, 'if-match': '"2"' },
      payload: { description: 'still fine' },
    })
    expect(described.statusCode).toBe(200)

    await sql('UPDATE users SET email_verified_at = now() WHERE id = $1', [owner.userId])
    await sql(`UPDATE sessions SET created_at = now() - interval '1 hour' WHERE user_id = $1`, [
      owner.userId,
    ])
    const stale = await moveTo('https://93.184.215.16/x', 3)
    expect(stale.statusCode).toBe(403)
    expect(stale.json().type).toBe('urn:groundwork:problem:step_up_required')
  })

  it('are limited per organization', async () => {
    const owner = await verifiedAdmin()
    await sql(
      `INSERT INTO webhook_endpoints (id, organization_id, url, events, secret, updated_at)
       SELECT gen_random_uuid(), $1, $2, ARRAY['project.created'], '\\x00', now()
       FROM generate_series(1, 20)`,
      [owner.orgId, PUBLIC_URL],
    )
    const res = await createEndpoint(owner)
    expect(res.statusCode).toBe(403)
    expect(res.json().type).toBe('urn:groundwork:problem:quota_exceeded')
  })
})

describe('webhook events', () => {
  it('are recorded in the transaction of the change, only for subscribed types, never for a rolled-back change', async () => {
    const owner = await verifiedAdmin()
    expect((await createEndpoint(owner)).statusCode).toBe(201)
    const createProject = (name: string) =>
      server.inject({
        method: 'POST',
        url: `/v1/orgs/${owner.orgId}/projects`,
        headers: { ...owner.headers, 'x-request-id': 'req-webhook-1' },
        payload: { name },
      })
    const project = await createProject('Launch')
    expect(project.statusCode).toBe(201)
    // A duplicate name rolls back: no event for it.
    expect((await createProject('Launch')).statusCode).toBe(409)
    // task.created has no subscriber: nothing is recorded for it.
    const task = await server.inject({
      method: 'POST',
      url: `/v1/orgs/${owner.orgId}/projects/${project.json().id}/tasks`,
      headers: owner.headers,
      payload: { title: 'Write the brief' },
    })
    expect(task.statusCode).toBe(201)
    expect(await outboxEvents(owner.orgId)).toEqual([{ type: 'project.created' }])
    const [message] = (await sql(
      `SELECT data FROM outbox_messages WHERE organization_id = $1 AND job_name = 'webhooks.event'`,
      [owner.orgId],
    )) as { data: { payload: Record<string, unknown>; context: Record<string, unknown> } }[]
    expect(message?.data.payload).toMatchObject({
      eventId: expect.stringMatching(/^msg_[a-f0-9]{32}$/),
      type: 'project.created',
      data: { id: project.json().id, name: 'Launch', organizationId: owner.orgId },
    })
    expect(message?.data.context).toMatchObject({
      organizationId: owner.orgId,
      requestId: 'req-webhook-1',
    })
  })

  it('cover updates and deletes of projects and tasks; a disabled endpoint gets none', async () => {
    const owner = await verifiedAdmin()
    const endpoint = (
      await createEndpoint(owner, {
        url: PUBLIC_URL,
        events: ['project.updated', 'project.deleted', 'task.updated', 'task.deleted'],
      })
    ).json()
    const base = `/v1/orgs/${owner.orgId}/projects`
    const project = (
      await server.inject({
        method: 'POST',
        url: base,
        headers: owner.headers,
        payload: { name: 'P' },
      })
    ).json()
    const tasks = `${base}/${project.id}/tasks`
    const task = (
      await server.inject({
        method: 'POST',
        url: tasks,
        headers: owner.headers,
        payload: { title: 'T' },
      })
    ).json()
    const ifMatch = { ...owner.headers, 'if-match': '"1"' }
    await server.inject({
      method: 'PATCH',
      url: `${tasks}/${task.id}`,
      headers: ifMatch,
      payload: { status: 'done' },
    })
    await server.inject({ method: 'DELETE', url: `${tasks}/${task.id}`, headers: owner.headers })
    await server.inject({
      method: 'PATCH',
      url: `${base}/${project.id}`,
      headers: ifMatch,
      payload: { name: 'P2' },
    })
    // A stale If-Match changes nothing, so it emits nothing.
    const stale = await server.inject({
      method: 'PATCH',
      url: `${base}/${project.id}`,
      headers: ifMatch,
      payload: { name: 'P3' },
    })
    expect(stale.statusCode).toBe(412)
    await server.inject({ method: 'DELETE', url: `${base}/${project.id}`, headers: owner.headers })
    expect((await outboxEvents(owner.orgId)).map((e) => e.type)).toEqual([
      'task.updated',
      'task.deleted',
      'project.updated',
      'project.deleted',
    ])

    await server.inject({
      method: 'PATCH',
      url: `/v1/orgs/${owner.orgId}/webhook-endpoints/${endpoint.id}`,
      headers: { ...owner.headers, 'if-match': '"1"' },
      payload: { enabled: false },
    })
    await server.inject({
      method: 'POST',
      url: base,
      headers: owner.headers,
      payload: { name: 'Q' },
    })
    const q = (await sql('SELECT id FROM projects WHERE name = $1 AND organization_id = $2', [
      'Q',
      owner.orgId,
    ])) as { id: string }[]
    await server.inject({
      method: 'PATCH',
      url: `${base}/${q[0]?.id}`,
      headers: ifMatch,
      payload: { name: 'Q2' },
    })
    expect(await outboxEvents(owner.orgId)).toHaveLength(4)
  })
})

describe('webhook events of other changes', () => {
  it('tell subscribers about tasks unassigned when their assignee leaves', async () => {
    const owner = await verifiedAdmin()
    await createEndpoint(owner, { url: PUBLIC_URL, events: ['task.updated'] })
    const member = await addMember(server, sql, owner.orgId, 'member')
    const project = (
      await server.inject({
        method: 'POST',
        url: `/v1/orgs/${owner.orgId}/projects`,
        headers: owner.headers,
        payload: { name: 'Handover' },
      })
    ).json()
    for (const title of ['One', 'Two'])
      await server.inject({
        method: 'POST',
        url: `/v1/orgs/${owner.orgId}/projects/${project.id}/tasks`,
        headers: owner.headers,
        payload: { title, assigneeId: member.userId },
      })
    const removed = await server.inject({
      method: 'DELETE',
      url: `/v1/orgs/${owner.orgId}/members/${member.userId}`,
      headers: owner.headers,
    })
    expect(removed.statusCode).toBe(204)
    const events = (await sql(
      `SELECT data->'payload'->'data' AS data FROM outbox_messages
       WHERE organization_id = $1 AND job_name = 'webhooks.event'`,
      [owner.orgId],
    )) as { data: { title: string; assigneeId: string | null; version: number } }[]
    expect(events.map((e) => [e.data.title, e.data.assigneeId, e.data.version]).sort()).toEqual([
      ['One', null, 2],
      ['Two', null, 2],
    ])
  })
})

describe('sending a delivery again', () => {
  it("queues a finished delivery once more; not a pending one, not to a disabled endpoint, not another tenant's", async () => {
    const owner = await verifiedAdmin()
    const endpoint = (await createEndpoint(owner)).json()
    const [delivery] = (await sql(
      `INSERT INTO webhook_deliveries (id, organization_id, endpoint_id, event_id, event_type, payload, status, attempt_count, completed_at)
       VALUES (gen_random_uuid(), $1, $2, 'msg_again', 'project.created', '{"type":"project.created"}', 'failed', 10, now())
       RETURNING id`,
      [owner.orgId, endpoint.id],
    )) as { id: string }[]
    const url = `/v1/orgs/${owner.orgId}/webhook-endpoints/${endpoint.id}/deliveries/${delivery?.id}/redeliver`
    const again = () => server.inject({ method: 'POST', url, headers: owner.headers })

    const queued = await again()
    expect(queued.statusCode).toBe(202)
    expect(queued.json()).toMatchObject({ status: 'pending', completedAt: null, attemptCount: 10 })
    const jobs = (await sql(
      `SELECT data->'payload'->>'deliveryId' AS id FROM outbox_messages
       WHERE organization_id = $1 AND job_name = 'webhooks.deliver'`,
      [owner.orgId],
    )) as { id: string }[]
    expect(jobs).toEqual([{ id: delivery?.id }])
    // Twice: the second finds it pending.
    const twice = await again()
    expect(twice.statusCode).toBe(409)
    expect(twice.json().type).toBe('urn:groundwork:problem:delivery_pending')

    await sql(`UPDATE webhook_deliveries SET status = 'failed' WHERE id = $1`, [delivery?.id])
    await sql('UPDATE webhook_endpoints SET disabled_at = now() WHERE id = $1', [endpoint.id])
    const disabled = await again()
    expect(disabled.statusCode).toBe(409)
    expect(disabled.json().type).toBe('urn:groundwork:problem:endpoint_disabled')

    const other = await verifiedAdmin('Other')
    const foreign = await server.inject({
      method: 'POST',
      url: url.replace(owner.orgId, other.orgId),
      headers: other.headers,
    })
    expect(foreign.statusCode).toBe(404)
    const audit = (await sql(
      `SELECT count(*)::int AS n FROM audit_logs WHERE action = 'webhook_delivery.redelivered' AND target_id = $1`,
      [delivery?.id],
    )) as { n: number }[]
    expect(audit).toEqual([{ n: 1 }])
  })
})

describe('the delivery log', () => {
  it('lists deliveries by status and shows one with its attempts; other endpoints and ids are 404', async () => {
    const owner = await verifiedAdmin()
    const endpoint = (await createEndpoint(owner)).json()
    const [delivery] = (await sql(
      `INSERT INTO webhook_deliveries (id, organization_id, endpoint_id, event_id, event_type, payload, status, attempt_count)
       VALUES (gen_random_uuid(), $1, $2, 'msg_abc', 'project.created', '{"type":"project.created"}', 'failed', 2)
       RETURNING id`,
      [owner.orgId, endpoint.id],
    )) as { id: string }[]
    await sql(
      `INSERT INTO webhook_delivery_attempts (id, organization_id, delivery_id, attempt, started_at, duration_ms, response_status, response_body, error, succeeded)
       VALUES (gen_random_uuid(), $1, $2, 1, now() - interval '1 minute', 12, 500, 'oops', 'answered 500', false),
              (gen_random_uuid(), $1, $2, 2, now(), 5003, NULL, NULL, 'timed out after 5000 ms', false)`,
      [owner.orgId, delivery?.id],
    )
    const base = `/v1/orgs/${owner.orgId}/webhook-endpoints/${endpoint.id}/deliveries`
    const failed = await server.inject({ url: `${base}?status=failed`, headers: owner.headers })
    expect(failed.json().data).toHaveLength(1)
    const succeeded = await server.inject({
      url: `${base}?status=succeeded`,
      headers: owner.headers,
    })
    expect(succeeded.json().data).toEqual([])
    const one = await server.inject({ url: `${base}/${delivery?.id}`, headers: owner.headers })
    expect(one.statusCode).toBe(200)
    expect(one.json()).toMatchObject({
      eventId: 'msg_abc',
      status: 'failed',
      attemptCount: 2,
      attempts: [
        { attempt: 1, responseStatus: 500, responseBody: 'oops', succeeded: false },
        { attempt: 2, responseStatus: null, error: 'timed out after 5000 ms', durationMs: 5003 },
      ],
    })
    const otherEndpoint = (await createEndpoint(owner)).json()
    const wrongParent = await server.inject({
      url: `/v1/orgs/${owner.orgId}/webhook-endpoints/${otherEndpoint.id}/deliveries/${delivery?.id}`,
      headers: owner.headers,
    })
    expect(wrongParent.statusCode).toBe(404)
    const badStatus = await server.inject({ url: `${base}?status=lost`, headers: owner.headers })
    expect(badStatus.statusCode).toBe(400)
  })
})
