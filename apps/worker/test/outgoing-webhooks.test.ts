import { createServer, type IncomingHttpHeaders, type Server } from 'node:http'
import { type AddressInfo, isIP } from 'node:net'
import { parseEnv, webhooksEnv } from '@repo/config'
import {
  type CoreDeps,
  checkWebhookUrl,
  createProject,
  createWebhookEndpoint,
  deliverWebhook,
  emitWebhookEvent,
  fanOutWebhookEvent,
  guardedLookup,
  isPublicAddress,
  type NameResolver,
  redeliverWebhook,
  rotateWebhookSecret,
  sweepWebhookDeliveries,
  type WebhookDeliveryDeps,
} from '@repo/core'
import { type PrismaClient, withTenant } from '@repo/db'
import {
  EMAIL_QUEUE,
  WEBHOOK_DELIVERIES_QUEUE,
  WEBHOOKS_QUEUE,
  type WebhookEventType,
  webhookDeliveryJob,
} from '@repo/jobs'
import { createLogger } from '@repo/observability'
import { useIsolatedServices } from '@repo/testing'
import { Webhook } from 'standardwebhooks'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { createWorker } from '../src/create-worker.ts'
import { webhookHandlers } from '../src/webhooks.ts'
import { ownerQuery, seedOrganization } from './helpers.ts'
import { startPipeline, TEST_SECRETS_KEY } from './pipeline.ts'

// Outgoing webhooks end to end, against real Postgres, real Redis and a real HTTP
// receiver on loopback: a change commits, the outbox relay publishes its event, the
// worker fans it out and delivers it signed per Standard Webhooks; the receiver checks
// the signature with the reference library (standardwebhooks), as a customer would.
const services = useIsolatedServices()
const logger = createLogger({ service: 'worker-test', level: 'silent', pretty: false })
const KEY = TEST_SECRETS_KEY

interface Received {
  path: string
  headers: IncomingHttpHeaders
  body: string
}
const received: Received[] = []
const failuresLeft = new Map<string, number>()
/** Something to do (against the database) before the receiver answers a path. */
const beforeAnswer = new Map<string, () => Promise<unknown>>()
let receiver: Server
let base = ''

let pipeline: ReturnType<typeof startPipeline>
let appDb: PrismaClient
let workerDb: PrismaClient
let producers: ReturnType<typeof startPipeline>['producers']
let coreDeps: CoreDeps
let deliveryDeps: WebhookDeliveryDeps

const owner = (sql: string, values: unknown[] = []) =>
  ownerQuery(services().database.url, sql, values)

// Fast retries for the test: three attempts 50 ms apart (the real one: ten over hours).
const testDeliveryJob = {
  ...webhookDeliveryJob,
  attempts: 3,
  backoff: { type: 'exponential' as const, delay: 50, jitter: 0 },
}

beforeAll(async () => {
  receiver = createServer((request, response) => {
    const chunks: Buffer[] = []
    request.on('data', (chunk: Buffer) => chunks.push(chunk))
    request.on('end', async () => {
      const path = request.url ?? '/'
      received.push({ path, headers: request.headers, body: Buffer.concat(chunks).toString() })
      await beforeAnswer.get(path)?.()
      if (path.startsWith('/nul')) {
        response.writeHead(200).end('ok\u0000bin')
        return
      }
      const left = failuresLeft.get(path) ?? 0
      if (path.startsWith('/slow')) return // never answers
      if (path.startsWith('/redirect')) {
        response.writeHead(302, { location: 'http://169.254.169.254/' }).end()
        return
      }
      if (path.startsWith('/big')) {
        response.writeHead(200).end('x'.repeat(100_000))
        return
      }
      if (path.startsWith('/down') || left > 0) {
        failuresLeft.set(path, left - 1)
        response.writeHead(503, { 'content-type': 'text/plain' }).end('try later')
        return
      }
      response.writeHead(204).end()
    })
  })
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve))
  base = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}`

  pipeline = startPipeline(services(), logger)
  ;({ appDb, workerDb, producers, coreDeps } = pipeline)
  deliveryDeps = {
    db: workerDb,
    secretsKey: KEY,
    allowPrivateTargets: true,
    timeoutMs: 2_000,
    disableAfterFailures: 2,
    appUrl: 'https://app.example.com',
    deliveryJob: testDeliveryJob,
    // The circuit breaker has its own tests (webhook-fairness.test.ts); here every attempt is sent.
    circuit: { openAfter: 1_000, cooldownMs: 1_000 },
  }
  const handlers = webhookHandlers(deliveryDeps)
  const { connection } = pipeline
  pipeline.workers.push(
    createWorker({
      queue: WEBHOOKS_QUEUE,
      connection,
      handlers: handlers.events,
      concurrency: 2,
      logger,
    }),
    createWorker({
      queue: WEBHOOK_DELIVERIES_QUEUE,
      connection,
      handlers: handlers.deliveries,
      concurrency: 5,
      logger,
    }),
  )
})

afterAll(async () => {
  await pipeline?.stop()
  await new Promise((resolve) => receiver?.close(resolve))
})

let orgCount = 0
/** An organization with an owner, an admin and a member (verified emails). */
async function organization() {
  orgCount += 1
  return seedOrganization(services().database.url, `Hooks ${orgCount}`)
}

async function endpoint(
  actor: Awaited<ReturnType<typeof organization>>['actor'],
  path: string,
  events: WebhookEventType[] = ['project.created'],
) {
  return createWebhookEndpoint(
    coreDeps,
    { ...actor, emailVerified: true },
    { url: `${base}${path}`, events },
  )
}

/** A pending delivery row for an endpoint, as a fan-out would leave it (no job queued). */
async function pendingDelivery(organizationId: string, endpointId: string) {
  const [row] = await owner(
    `INSERT INTO webhook_deliveries (id, organization_id, endpoint_id, event_id, event_type, payload)
     VALUES (gen_random_uuid(), $1, $2, $3, 'project.created', '{"type":"project.created"}') RETURNING id`,
    [organizationId, endpointId, `msg_${crypto.randomUUID().replaceAll('-', '')}`],
  )
  return row as { id: string }
}

const receivedAt = (path: string) => received.filter((r) => r.path === path)
const deliveriesOf = (endpointId: string) =>
  owner(
    `SELECT id, status, attempt_count FROM webhook_deliveries WHERE endpoint_id = $1 ORDER BY created_at`,
    [endpointId],
  )
const attemptsOf = (deliveryId: string) =>
  owner(
    `SELECT attempt, response_status, error, succeeded, duration_ms, response_body
     FROM webhook_delivery_attempts WHERE delivery_id = $1 ORDER BY attempt`,
    [deliveryId],
  )

describe('outgoing webhooks', () => {
  it('deliver a committed change, signed so that the receiver verifies it', async () => {
    const { actor, orgId } = await organization()
    const { endpoint: registered, secret } = await endpoint(actor, '/ok')
    const project = await createProject(
      coreDeps,
      actor,
      { name: 'Signed' },
      { requestId: 'req-42' },
    )

    await expect.poll(() => receivedAt('/ok').length, { timeout: 10_000 }).toBe(1)
    const [request] = receivedAt('/ok')
    const verified = new Webhook(secret).verify(request?.body ?? '', {
      'webhook-id': String(request?.headers['webhook-id']),
      'webhook-timestamp': String(request?.headers['webhook-timestamp']),
      'webhook-signature': String(request?.headers['webhook-signature']),
    })
    expect(verified).toMatchObject({
      type: 'project.created',
      data: { id: project.id, name: 'Signed', organizationId: orgId },
    })
    expect(request?.headers['webhook-id']).toMatch(/^msg_[a-f0-9]{32}$/)
    expect(request?.headers['content-type']).toBe('application/json')
    expect(request?.headers['user-agent']).toMatch(/^Groundwork-Webhooks\//)
    // A tampered body fails verification: the signature covers it.
    expect(() =>
      new Webhook(secret).verify(`${request?.body} `, {
        'webhook-id': String(request?.headers['webhook-id']),
        'webhook-timestamp': String(request?.headers['webhook-timestamp']),
        'webhook-signature': String(request?.headers['webhook-signature']),
      }),
    ).toThrow()

    await expect
      .poll(async () => (await deliveriesOf(registered.id))[0]?.status, { timeout: 5_000 })
      .toBe('succeeded')
    const [delivery] = await deliveriesOf(registered.id)
    expect(await attemptsOf(delivery.id)).toMatchObject([
      { attempt: 1, response_status: 204, succeeded: true, error: null },
    ])
  })

  it('retry a failing endpoint with backoff, under the same webhook-id, logging every attempt', async () => {
    const { actor } = await organization()
    const { endpoint: registered } = await endpoint(actor, '/flaky')
    failuresLeft.set('/flaky', 2)
    await createProject(coreDeps, actor, { name: 'Flaky' })

    await expect
      .poll(async () => (await deliveriesOf(registered.id))[0]?.status, { timeout: 10_000 })
      .toBe('succeeded')
    const requests = receivedAt('/flaky')
    expect(requests).toHaveLength(3)
    expect(new Set(requests.map((r) => r.headers['webhook-id'])).size).toBe(1)
    const [delivery] = await deliveriesOf(registered.id)
    expect(delivery.attempt_count).toBe(3)
    expect(await attemptsOf(delivery.id)).toMatchObject([
      {
        attempt: 1,
        response_status: 503,
        succeeded: false,
        error: 'answered 503',
        response_body: 'try later',
      },
      { attempt: 2, response_status: 503, succeeded: false },
      { attempt: 3, response_status: 204, succeeded: true },
    ])
    const [row] = await owner(
      'SELECT consecutive_failures, disabled_at FROM webhook_endpoints WHERE id = $1',
      [registered.id],
    )
    expect(row).toEqual({ consecutive_failures: 0, disabled_at: null })
  })

  it('sign with the new and the previous secret during a rotation, and with the new one after it', async () => {
    const { actor } = await organization()
    const { endpoint: registered, secret: oldSecret } = await endpoint(actor, '/rotated')
    const { secret: newSecret } = await rotateWebhookSecret(coreDeps, actor, {
      endpointId: registered.id,
    })
    await createProject(coreDeps, actor, { name: 'During' })
    await expect.poll(() => receivedAt('/rotated').length, { timeout: 10_000 }).toBe(1)
    const during = receivedAt('/rotated')[0] as Received
    const headersOf = (r: Received) => ({
      'webhook-id': String(r.headers['webhook-id']),
      'webhook-timestamp': String(r.headers['webhook-timestamp']),
      'webhook-signature': String(r.headers['webhook-signature']),
    })
    expect(String(during.headers['webhook-signature']).split(' ')).toHaveLength(2)
    expect(() => new Webhook(newSecret).verify(during.body, headersOf(during))).not.toThrow()
    expect(() => new Webhook(oldSecret).verify(during.body, headersOf(during))).not.toThrow()

    await owner(
      `UPDATE webhook_endpoints SET previous_secret_expires_at = now() - interval '1 second' WHERE id = $1`,
      [registered.id],
    )
    await createProject(coreDeps, actor, { name: 'After' })
    await expect.poll(() => receivedAt('/rotated').length, { timeout: 10_000 }).toBe(2)
    const after = receivedAt('/rotated')[1] as Received
    expect(String(after.headers['webhook-signature']).split(' ')).toHaveLength(1)
    expect(() => new Webhook(newSecret).verify(after.body, headersOf(after))).not.toThrow()
    expect(() => new Webhook(oldSecret).verify(after.body, headersOf(after))).toThrow()
  })

  it('disable an endpoint after N deliveries in a row failed, and email its admins once', async () => {
    const { actor, orgId, people } = await organization()
    // An admin being removed (their tasks still being unassigned) has no access any more,
    // so no email about the organization either.
    const [leaving] = await owner(
      `INSERT INTO users (id, email, name, email_verified_at, updated_at)
       VALUES (gen_random_uuid(), $1, 'Leaving admin', now(), now()) RETURNING id`,
      [`leaving-${crypto.randomUUID()}@example.com`],
    )
    await owner(
      `INSERT INTO memberships (id, organization_id, user_id, role, updated_at, removal_requested_at)
       VALUES (gen_random_uuid(), $1, $2, 'admin', now(), now())`,
      [orgId, leaving.id],
    )
    const { endpoint: registered } = await endpoint(actor, '/down')
    await createProject(coreDeps, actor, { name: 'Down 1' })
    await createProject(coreDeps, actor, { name: 'Down 2' })

    await expect
      .poll(
        async () =>
          (
            await owner('SELECT disabled_at FROM webhook_endpoints WHERE id = $1', [registered.id])
          )[0]?.disabled_at,
        { timeout: 15_000 },
      )
      .not.toBeNull()
    const deliveries = await deliveriesOf(registered.id)
    expect(deliveries.map((d) => [d.status, d.attempt_count])).toEqual([
      ['failed', 3],
      ['failed', 3],
    ])
    expect(receivedAt('/down')).toHaveLength(6)
    const [row] = await owner(
      'SELECT consecutive_failures, disabled_reason FROM webhook_endpoints WHERE id = $1',
      [registered.id],
    )
    expect(row).toEqual({
      consecutive_failures: 2,
      disabled_reason: '2 deliveries in a row failed.',
    })

    // The emails went through the outbox to the email queue (no email worker runs here).
    const queued = async () =>
      (await producers.get(EMAIL_QUEUE).getJobs(['waiting', 'delayed', 'prioritized']))
        .map((job) => job.data)
        .filter((data) => data.context.organizationId === orgId)
        .map((data) => data.payload)
    await expect.poll(async () => (await queued()).length, { timeout: 5_000 }).toBe(2)
    const emails = (await queued()).map((payload) => ({ payload }))
    expect(emails.map((e) => e.payload.to).sort()).toEqual(
      [people.ownerEmail, people.adminEmail].sort(),
    )
    expect(emails[0]?.payload).toMatchObject({
      template: 'webhook-endpoint-disabled',
      endpointUrl: `${base}/down`,
      organizationName: expect.stringMatching(/^Hooks /),
      failures: 2,
      url: `https://app.example.com/orgs/${orgId}/settings/webhooks/${registered.id}`,
    })

    // Disabled: new changes record no event, and a delivery still queued is canceled.
    await createProject(coreDeps, actor, { name: 'Down 3' })
    const pending = await pendingDelivery(orgId, registered.id)
    expect(
      await deliverWebhook(deliveryDeps, {
        organizationId: orgId,
        deliveryId: pending.id,
        final: false,
      }),
    ).toEqual({ outcome: 'canceled' })
    expect(
      await owner(
        `SELECT count(*)::int AS n FROM outbox_messages WHERE organization_id = $1 AND job_name = 'webhooks.event'`,
        [orgId],
      ),
    ).toEqual([{ n: 2 }])
    expect(receivedAt('/down')).toHaveLength(6)
  })

  it('record no event for a change whose transaction rolls back after emitting it', async () => {
    const { actor, orgId } = await organization()
    await endpoint(actor, '/rolled-back')
    await expect(
      withTenant(appDb, actor, async (tx) => {
        await emitWebhookEvent(tx, orgId, { type: 'project.created', data: { id: 'x' } })
        throw new Error('the change failed after its event was recorded')
      }),
    ).rejects.toThrow('the change failed')
    expect(
      await owner(`SELECT count(*)::int AS n FROM outbox_messages WHERE organization_id = $1`, [
        orgId,
      ]),
    ).toEqual([{ n: 0 }])
  })

  it('keep the delivery log bounded, and end deliveries whose jobs were lost', async () => {
    const { actor, orgId } = await organization()
    const { endpoint: registered } = await endpoint(actor, '/sweep')
    const insert = (status: string, age: string) =>
      owner(
        `INSERT INTO webhook_deliveries (id, organization_id, endpoint_id, event_id, event_type, payload, status, created_at, queued_at)
         VALUES (gen_random_uuid(), $1, $2, 'msg_' || md5(random()::text), 'project.created', '{}', $3::webhook_delivery_status, now() - $4::interval, now() - $4::interval)`,
        [orgId, registered.id, status, age],
      )
    await insert('succeeded', '31 days')
    await insert('failed', '40 days')
    await insert('pending', '25 hours')
    await insert('pending', '1 hour')
    await insert('succeeded', '2 days')
    expect(
      await sweepWebhookDeliveries({ db: workerDb }, { keepDays: 30, stuckHours: 24 }),
    ).toEqual({ deleted: 2, expired: 1 })
    const left = await owner(
      'SELECT status FROM webhook_deliveries WHERE endpoint_id = $1 ORDER BY created_at',
      [registered.id],
    )
    expect(left.map((r) => r.status)).toEqual(['succeeded', 'failed', 'pending'])
    // Only the worker's login may run it: the API's may not reach across organizations.
    await expect(
      sweepWebhookDeliveries({ db: appDb }, { keepDays: 30, stuckHours: 24 }),
    ).rejects.toThrow(/permission denied/)
  })

  it('never end a delivery sent again long after it was created', async () => {
    const { actor, orgId } = await organization()
    const { endpoint: registered } = await endpoint(actor, '/late-redelivery')
    const [old] = await owner(
      `INSERT INTO webhook_deliveries (id, organization_id, endpoint_id, event_id, event_type, payload, status, created_at, queued_at, completed_at)
       VALUES (gen_random_uuid(), $1, $2, 'msg_late', 'project.created', '{}', 'failed', now() - interval '4 days', now() - interval '4 days', now() - interval '3 days')
       RETURNING id`,
      [orgId, registered.id],
    )
    // Sent again now, 96 hours after it was created; its job does not run yet.
    await Promise.all(pipeline.workers.map((worker) => worker.pause()))
    try {
      await redeliverWebhook(coreDeps, actor, { endpointId: registered.id, deliveryId: old.id })
      await sweepWebhookDeliveries({ db: workerDb }, { keepDays: 30, stuckHours: 24 })
      expect(await owner('SELECT status FROM webhook_deliveries WHERE id = $1', [old.id])).toEqual([
        { status: 'pending' },
      ])
    } finally {
      for (const worker of pipeline.workers) worker.resume()
    }
  })

  it('send a failed delivery again on request, continuing its attempt log', async () => {
    const { actor } = await organization()
    const { endpoint: registered } = await endpoint(actor, '/fixed-later')
    failuresLeft.set('/fixed-later', 3)
    await createProject(coreDeps, actor, { name: 'Fixed later' })
    await expect
      .poll(async () => (await deliveriesOf(registered.id))[0]?.status, { timeout: 10_000 })
      .toBe('failed')
    const [delivery] = await deliveriesOf(registered.id)
    // The receiver is fixed; an admin sends it again.
    await redeliverWebhook(coreDeps, actor, { endpointId: registered.id, deliveryId: delivery.id })
    await expect
      .poll(async () => (await deliveriesOf(registered.id))[0]?.status, { timeout: 10_000 })
      .toBe('succeeded')
    expect((await attemptsOf(delivery.id)).map((a) => [a.attempt, a.succeeded])).toEqual([
      [1, false],
      [2, false],
      [3, false],
      [4, true],
    ])
  })

  it('fan out each event once per subscribed endpoint of its own organization', async () => {
    const a = await organization()
    const b = await organization()
    const subscribed = await endpoint(a.actor, '/fanout-a', ['task.updated'])
    const unsubscribed = await endpoint(a.actor, '/fanout-a2', ['task.created'])
    const otherTenant = await endpoint(b.actor, '/fanout-b', ['task.updated'])
    const event = {
      eventId: 'msg_fanout1',
      type: 'task.updated' as const,
      timestamp: new Date().toISOString(),
      data: { id: 'x' },
    }
    // Fan-out with a delivery job that no worker runs here, so only rows are counted.
    const deps = { db: workerDb, deliveryJob: { ...testDeliveryJob, queue: 'unconsumed' } }
    expect(await fanOutWebhookEvent(deps, a.orgId, event)).toHaveLength(1)
    expect(await fanOutWebhookEvent(deps, a.orgId, event)).toEqual([])
    expect(await deliveriesOf(subscribed.endpoint.id)).toHaveLength(1)
    expect(await deliveriesOf(unsubscribed.endpoint.id)).toHaveLength(0)
    expect(await deliveriesOf(otherTenant.endpoint.id)).toHaveLength(0)
  })
})

describe('a delivery attempt', () => {
  /** A pending delivery row for an endpoint, delivered by calling the worker's function. */
  async function attempt(path: string, deps: Partial<WebhookDeliveryDeps> = {}) {
    const { actor, orgId } = await organization()
    const { endpoint: registered } = await endpoint(actor, path)
    const row = await pendingDelivery(orgId, registered.id)
    const before = received.length
    const result = await deliverWebhook(
      { ...deliveryDeps, ...deps },
      { organizationId: orgId, deliveryId: row.id, final: false },
    )
    const [logged] = await attemptsOf(row.id)
    return { result, logged, requests: received.length - before }
  }

  it('is refused by the SSRF guard at connection time when private targets are not allowed', async () => {
    // Registered while allowed; the address (and a name resolving to loopback) is checked
    // again at connection time, so DNS that changes after registration cannot reach inside.
    const blocked = await attempt('/ok-ssrf', { allowPrivateTargets: false })
    expect(blocked.result).toMatchObject({ outcome: 'failed', final: false })
    expect(blocked.logged.error).toMatch(/^blocked by the SSRF guard/)
    expect(blocked.logged.response_status).toBeNull()
    expect(blocked.requests).toBe(0)
    const { actor, orgId } = await organization()
    const named = await createWebhookEndpoint(
      coreDeps,
      { ...actor, emailVerified: true },
      { url: base.replace('127.0.0.1', 'localhost'), events: ['project.created'] },
    )
    const row = await pendingDelivery(orgId, named.endpoint.id)
    const result = await deliverWebhook(
      { ...deliveryDeps, allowPrivateTargets: false },
      { organizationId: orgId, deliveryId: row.id, final: false },
    )
    expect(result).toMatchObject({ outcome: 'failed' })
    expect((await attemptsOf(row.id))[0]?.error).toMatch(/^blocked by the SSRF guard/)
  })

  it('gives up on an endpoint that does not answer in time', async () => {
    const started = performance.now()
    const { result, logged } = await attempt('/slow', { timeoutMs: 300 })
    const elapsed = performance.now() - started
    expect(result).toMatchObject({ outcome: 'failed', error: 'timed out after 300 ms' })
    // It waited for the timeout, and the logged duration is the attempt's own: no longer
    // than the whole call around it (a machine under load stretches both alike).
    expect(logged.duration_ms).toBeGreaterThanOrEqual(290)
    expect(logged.duration_ms).toBeLessThanOrEqual(Math.ceil(elapsed))
  })

  it('does not follow redirects, and keeps only the first 2 KB of an answer', async () => {
    const redirect = await attempt('/redirect')
    expect(redirect.logged).toMatchObject({
      response_status: 302,
      error: 'answered 302: redirects are not followed',
      succeeded: false,
    })
    const big = await attempt('/big')
    expect(big.result).toMatchObject({ outcome: 'succeeded', status: 200 })
    expect(big.logged.response_body).toHaveLength(2_000)
  })

  it('stores an answer with NUL bytes (binary, compressed) instead of failing to record it', async () => {
    const { result, logged } = await attempt('/nul')
    expect(result).toMatchObject({ outcome: 'succeeded', status: 200 })
    expect(logged).toMatchObject({ succeeded: true, response_body: 'ok\uFFFDbin' })
  })

  it('ends quietly when the endpoint is deleted while its request is out', async () => {
    const { actor, orgId } = await organization()
    const { endpoint: registered } = await endpoint(actor, '/deleted-meanwhile')
    beforeAnswer.set('/deleted-meanwhile', () =>
      owner('DELETE FROM webhook_endpoints WHERE id = $1', [registered.id]),
    )
    const row = await pendingDelivery(orgId, registered.id)
    expect(
      await deliverWebhook(deliveryDeps, {
        organizationId: orgId,
        deliveryId: row.id,
        final: true,
      }),
    ).toEqual({ outcome: 'missing' })
  })

  it('refuses IPv4-compatible IPv6 forms of inside addresses, at the connection too', async () => {
    expect(isPublicAddress('::7f00:1')).toBe(false)
    expect(isPublicAddress('::a9fe:a9fe')).toBe(false)
    expect(isPublicAddress('::ffff:10.0.0.1')).toBe(false)
    expect(isPublicAddress('93.184.215.14')).toBe(true)
    expect(isPublicAddress('2606:4700::1111')).toBe(true)
    const { actor, orgId } = await organization()
    const { endpoint: registered } = await endpoint(actor, '/compat')
    const port = new URL(base).port
    await owner('UPDATE webhook_endpoints SET url = $2 WHERE id = $1', [
      registered.id,
      `http://[::7f00:1]:${port}/compat`,
    ])
    const row = await pendingDelivery(orgId, registered.id)
    await deliverWebhook(
      { ...deliveryDeps, allowPrivateTargets: false },
      { organizationId: orgId, deliveryId: row.id, final: false },
    )
    expect((await attemptsOf(row.id))[0]?.error).toMatch(/^blocked by the SSRF guard/)
    expect(receivedAt('/compat')).toHaveLength(0)
  })

  it('ends a delivery with its real outcome when recording the attempt fails', async () => {
    const { actor, orgId } = await organization()
    const ok = await endpoint(actor, '/recorded-ok')
    const down = await endpoint(actor, '/down-unrecorded')
    // The attempt log refuses rows for this organization: recording fails after the POST.
    await owner(`CREATE FUNCTION refuse_attempt() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN RAISE EXCEPTION 'the attempt log is unavailable'; END $$`)
    await owner(`CREATE TRIGGER refuse_attempt BEFORE INSERT ON webhook_delivery_attempts
      FOR EACH ROW WHEN (NEW.organization_id = '${orgId}') EXECUTE FUNCTION refuse_attempt()`)
    try {
      // Delivered, not recorded: still ended as succeeded (not sent again), no error.
      const delivered = await pendingDelivery(orgId, ok.endpoint.id)
      expect(
        await deliverWebhook(deliveryDeps, {
          organizationId: orgId,
          deliveryId: delivered.id,
          final: false,
        }),
      ).toEqual({ outcome: 'succeeded', status: 204 })
      // Failed on its last attempt: ended as failed and counted, and the job fails loudly.
      const failed = await pendingDelivery(orgId, down.endpoint.id)
      await expect(
        deliverWebhook(deliveryDeps, { organizationId: orgId, deliveryId: failed.id, final: true }),
      ).rejects.toThrow('the attempt log is unavailable')
      // Failed with attempts left: retried as usual, nothing ended.
      const retried = await pendingDelivery(orgId, down.endpoint.id)
      await expect(
        deliverWebhook(deliveryDeps, {
          organizationId: orgId,
          deliveryId: retried.id,
          final: false,
        }),
      ).rejects.toThrow('the attempt log is unavailable')
      const statuses = await owner(
        'SELECT id, status, attempt_count FROM webhook_deliveries WHERE id = ANY($1::uuid[])',
        [[delivered.id, failed.id, retried.id]],
      )
      const byId = Object.fromEntries(statuses.map((r) => [r.id, [r.status, r.attempt_count]]))
      expect(byId).toEqual({
        [delivered.id]: ['succeeded', 1],
        [failed.id]: ['failed', 1],
        [retried.id]: ['pending', 0],
      })
      const [counted] = await owner(
        'SELECT consecutive_failures FROM webhook_endpoints WHERE id = $1',
        [down.endpoint.id],
      )
      expect(counted?.consecutive_failures).toBe(1)
    } finally {
      await owner('DROP TRIGGER refuse_attempt ON webhook_delivery_attempts')
      await owner('DROP FUNCTION refuse_attempt()')
    }
  })

  it('numbers overlapping attempts of one delivery apart, and never rewrites an outcome', async () => {
    const { actor, orgId } = await organization()
    const { endpoint: registered } = await endpoint(actor, '/overlap')
    const row = await pendingDelivery(orgId, registered.id)
    failuresLeft.set('/overlap', 2)
    const run = () =>
      deliverWebhook(deliveryDeps, { organizationId: orgId, deliveryId: row.id, final: false })
    await Promise.all([run(), run()])
    const numbers = (await attemptsOf(row.id)).map((a) => a.attempt)
    expect(numbers).toEqual([1, 2])
    expect(await run()).toEqual({ outcome: 'succeeded', status: 204 })
    // A late run of the same job (a stall) finds it finished and sends nothing.
    const before = receivedAt('/overlap').length
    expect(await run()).toEqual({ outcome: 'finished' })
    expect(receivedAt('/overlap')).toHaveLength(before)
  })

  it('resolves names through a look-up that lets public addresses through and nothing else', async () => {
    const fake =
      (answers: { address: string; family: number }[]): NameResolver =>
      (_host, _options, callback) =>
        callback(null, answers)
    const ask = (answers: { address: string; family: number }[], all: boolean) =>
      new Promise<{ err: Error | null; result: unknown }>((resolve) =>
        guardedLookup(fake(answers))('hooks.example.com', { all }, (err, result) =>
          resolve({ err, result }),
        ),
      )
    const v4 = { address: '93.184.215.14', family: 4 }
    const v6 = { address: '2606:4700::1111', family: 6 }
    expect(await ask([v4, v6], true)).toEqual({ err: null, result: [v4, v6] })
    expect(await ask([v6], false)).toEqual({ err: null, result: v6.address })
    for (const inside of [
      '127.0.0.1',
      '10.0.0.8',
      '169.254.169.254',
      '::1',
      '::7f00:1',
      'fd00::1',
    ]) {
      const { err } = await ask(
        [v4, { address: inside, family: inside.includes(':') ? 6 : 4 }],
        true,
      )
      expect(err?.message, inside).toContain(`resolves to ${inside}, which is not allowed`)
    }
  })

  it('records a refused connection as a failed attempt, not an error of the worker', async () => {
    const { actor, orgId } = await organization()
    const closed = createServer()
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve))
    const port = (closed.address() as AddressInfo).port
    await new Promise((resolve) => closed.close(resolve))
    const { endpoint: registered } = await createWebhookEndpoint(
      coreDeps,
      { ...actor, emailVerified: true },
      { url: `http://127.0.0.1:${port}/gone`, events: ['project.created'] },
    )
    const row = await pendingDelivery(orgId, registered.id)
    const result = await deliverWebhook(deliveryDeps, {
      organizationId: orgId,
      deliveryId: row.id,
      final: true,
    })
    expect(result).toMatchObject({ outcome: 'failed', final: true, disabledEndpoint: false })
    expect((await attemptsOf(row.id))[0]?.error).toMatch(/ECONNREFUSED/)
    expect((await deliveriesOf(registered.id))[0]?.status).toBe('failed')
  })
})

describe('a delivery with the SSRF guard on', () => {
  // A name that no real DNS answers: the test's resolver says where it leads.
  const HOST = 'hooks.example.test'
  /** Answers HOST with the given addresses, one per look-up (the last one from then on). */
  function resolver(...answers: string[]) {
    const asked: string[] = []
    const resolve: NameResolver = (hostname, _options, callback) => {
      asked.push(hostname)
      if (hostname !== HOST)
        return callback(Object.assign(new Error(`${hostname} unknown`), { code: 'ENOTFOUND' }), [])
      const address = answers[Math.min(asked.length, answers.length) - 1] as string
      callback(null, [{ address, family: isIP(address) }])
    }
    return { resolve, asked }
  }
  /** WEBHOOKS_ALLOWED_PRIVATE_TARGETS as the worker reads it. */
  const allowing = (value: string) =>
    parseEnv(webhooksEnv, { WEBHOOKS_ALLOWED_PRIVATE_TARGETS: value })
      .WEBHOOKS_ALLOWED_PRIVATE_TARGETS
  const port = () => Number(new URL(base).port)
  /** The delivery deps with the guard on, the given allow-list, and the given resolver. */
  const guarded = (allowList: string, resolve: NameResolver): WebhookDeliveryDeps => ({
    ...deliveryDeps,
    allowPrivateTargets: false,
    allowedPrivateTargets: allowing(allowList),
    resolve,
  })
  /** A pending delivery to `url` (registered while private targets were allowed). */
  async function pendingTo(url: string) {
    const { actor, orgId } = await organization()
    const { endpoint: registered, secret } = await createWebhookEndpoint(
      coreDeps,
      { ...actor, emailVerified: true },
      { url, events: ['project.created'] },
    )
    const row = await pendingDelivery(orgId, registered.id)
    const deliver = (deps: WebhookDeliveryDeps) =>
      deliverWebhook(deps, { organizationId: orgId, deliveryId: row.id, final: false })
    return { registered, secret, row, deliver }
  }

  it('delivers to an internal receiver the allow-list names, signed, and marks it succeeded', async () => {
    const dns = resolver('127.0.0.1')
    const byName = await pendingTo(`http://${HOST}:${port()}/allowed`)
    const result = await byName.deliver(guarded(`127.0.0.1:${port()}`, dns.resolve))
    expect(result).toEqual({ outcome: 'succeeded', status: 204 })
    expect(dns.asked).toEqual([HOST])
    const [request, ...more] = receivedAt('/allowed')
    expect(more).toEqual([])
    expect(
      new Webhook(byName.secret).verify(request?.body ?? '', {
        'webhook-id': String(request?.headers['webhook-id']),
        'webhook-timestamp': String(request?.headers['webhook-timestamp']),
        'webhook-signature': String(request?.headers['webhook-signature']),
      }),
    ).toEqual({ type: 'project.created' })
    expect(await deliveriesOf(byName.registered.id)).toMatchObject([
      { status: 'succeeded', attempt_count: 1 },
    ])
    // An allow-listed address in the URL itself (no look-up) goes through too.
    const byAddress = await pendingTo(`${base}/allowed-address`)
    expect(await byAddress.deliver(guarded(`127.0.0.0/8:${port()}`, dns.resolve))).toEqual({
      outcome: 'succeeded',
      status: 204,
    })
    expect(receivedAt('/allowed-address')).toHaveLength(1)
  })

  it('delivers quietly with a list of both address families, and to an IPv4 address written as IPv6', async () => {
    // The connection-time agent compares a range only with an address of its own family;
    // handed the list's ranges, it wrote a warning with a stack to stderr on every other pair.
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {})
    try {
      const dns = resolver('127.0.0.1')
      const both = await pendingTo(`http://${HOST}:${port()}/both-families`)
      expect(
        await both.deliver(guarded(`[fd00::/8]:${port()}, 127.0.0.0/8:${port()}`, dns.resolve)),
      ).toEqual({ outcome: 'succeeded', status: 204 })
      // Registration judges ::ffff:127.0.0.1 as the IPv4 address it carries; so does delivery.
      const mapped = resolver('::ffff:127.0.0.1')
      const asV6 = await pendingTo(`http://${HOST}:${port()}/mapped`)
      expect(await asV6.deliver(guarded(`127.0.0.1:${port()}`, mapped.resolve))).toEqual({
        outcome: 'succeeded',
        status: 204,
      })
      expect(warn).not.toHaveBeenCalled()
    } finally {
      warn.mockRestore()
    }
    expect(receivedAt('/both-families')).toHaveLength(1)
    expect(receivedAt('/mapped')).toHaveLength(1)
  })

  it('refuses every inside address the allow-list does not name for that port, before connecting', async () => {
    const other = port() === 65_535 ? 1 : port() + 1
    const cases: Array<[string, string, string[]]> = [
      // [allow-list, URL host, what the name resolves to]
      [`127.0.0.1:${other}`, HOST, ['127.0.0.1']],
      [`127.0.0.1:${other}`, '127.0.0.1', []],
      ['10.0.0.0/8', HOST, ['127.0.0.1']],
      ['10.0.0.0/8', '127.0.0.1', []],
      // Rebound after registration: the name now leads to the cloud's metadata service.
      [`127.0.0.1:${port()}`, HOST, ['169.254.169.254']],
    ]
    for (const [allowList, host, answers] of cases) {
      const path = `/refused-${crypto.randomUUID()}`
      const dns = resolver(...answers)
      const { deliver, row } = await pendingTo(`http://${host}:${port()}${path}`)
      const result = await deliver(guarded(allowList, dns.resolve))
      const label = `${allowList} -> ${host} (${answers.join(', ')})`
      expect(result, label).toMatchObject({ outcome: 'failed' })
      expect((await attemptsOf(row.id))[0]?.error, label).toMatch(/^blocked by the SSRF guard/)
      expect(receivedAt(path), label).toHaveLength(0)
    }
    // A name with one allowed address and one that is not: refused as a whole.
    const mixed: NameResolver = (_hostname, _options, callback) =>
      callback(null, [
        { address: '127.0.0.1', family: 4 },
        { address: '10.1.2.3', family: 4 },
      ])
    const { deliver, row } = await pendingTo(`http://${HOST}:${port()}/refused-mixed`)
    await deliver(guarded(`127.0.0.1:${port()}`, mixed))
    expect((await attemptsOf(row.id))[0]?.error).toContain('resolves to 10.1.2.3')
    expect(receivedAt('/refused-mixed')).toHaveLength(0)
  })

  it('connects to the address it checked: one look-up per attempt, whatever the name answers next', async () => {
    // DNS rebinding: the name answers the allowed receiver once, then an address inside
    // the network (TEST-NET-1 stands in for one). A guard that checked one answer and
    // connected to another would end up there; this one connects where it looked.
    const dns = resolver('127.0.0.1', '192.0.2.1')
    const first = await pendingTo(`http://${HOST}:${port()}/rebound`)
    expect(await first.deliver(guarded(`127.0.0.1:${port()}`, dns.resolve))).toEqual({
      outcome: 'succeeded',
      status: 204,
    })
    expect(dns.asked).toEqual([HOST])
    expect(receivedAt('/rebound')).toHaveLength(1)
    // The next attempt looks the name up again, and its new answer is refused.
    const second = await pendingTo(`http://${HOST}:${port()}/rebound`)
    await second.deliver(guarded(`127.0.0.1:${port()}`, dns.resolve))
    expect(dns.asked).toEqual([HOST, HOST])
    expect((await attemptsOf(second.row.id))[0]?.error).toMatch(
      /^blocked by the SSRF guard: hooks\.example\.test resolves to 192\.0\.2\.1/,
    )
    expect(receivedAt('/rebound')).toHaveLength(1)
  })

  it('registers an internal URL the allow-list names, for its port only, and reads the list strictly', async () => {
    const policy = {
      allowPrivateTargets: false,
      allowedPrivateTargets: allowing('10.0.0.5:8443, [fd00::/64]:443, 127.0.0.1:8444, [::1]:8444'),
    }
    const refused = { code: 'invalid_webhook_url' }
    await expect(checkWebhookUrl('https://10.0.0.5:8443/hooks', policy)).resolves.toBe(
      'https://10.0.0.5:8443/hooks',
    )
    await expect(checkWebhookUrl('https://[fd00::7]/hooks', policy)).resolves.toBe(
      'https://[fd00::7]/hooks',
    )
    // An internal name is judged by where it leads, port included.
    await expect(checkWebhookUrl('https://localhost:8444/hooks', policy)).resolves.toBe(
      'https://localhost:8444/hooks',
    )
    await expect(checkWebhookUrl('https://localhost:8443/hooks', policy)).rejects.toMatchObject(
      refused,
    )
    await expect(checkWebhookUrl('https://10.0.0.5/hooks', policy)).rejects.toMatchObject(refused)
    await expect(checkWebhookUrl('https://10.0.0.6:8443/hooks', policy)).rejects.toMatchObject(
      refused,
    )
    await expect(checkWebhookUrl('https://[fd01::7]/hooks', policy)).rejects.toMatchObject(refused)
    // Still https only: the list opens addresses, not plain http.
    await expect(checkWebhookUrl('http://10.0.0.5:8443/hooks', policy)).rejects.toMatchObject(
      refused,
    )
    for (const wrong of ['10.0.0.5:99999', '10.0.0.0/33', '[fd00::1]:0', 'internal.example.com'])
      expect(() => allowing(wrong), wrong).toThrow(/WEBHOOKS_ALLOWED_PRIVATE_TARGETS/)
  })
})
