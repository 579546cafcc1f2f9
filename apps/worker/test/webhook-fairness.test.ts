import { createServer, type Server } from 'node:http'
import type { AddressInfo, Socket } from 'node:net'
import {
  type CoreDeps,
  createProject,
  createWebhookEndpoint,
  deliverWebhook,
  deliveryPriority,
  type WebhookDeliveryDeps,
} from '@repo/core'
import { type PrismaClient, withTenant } from '@repo/db'
import {
  type DeadLetterQueue,
  openDeadLetters,
  WEBHOOK_DELIVERIES_QUEUE,
  WEBHOOKS_QUEUE,
  webhookDeliveryJob,
} from '@repo/jobs'
import { createLogger } from '@repo/observability'
import { useIsolatedServices, waitUntil } from '@repo/testing'
import type { Worker } from 'bullmq'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createWorker } from '../src/create-worker.ts'
import { redisDeliverySlots } from '../src/webhook-slots.ts'
import { webhookHandlers } from '../src/webhooks.ts'
import { ownerQuery, seedOrganization } from './helpers.ts'
import { startPipeline, TEST_SECRETS_KEY } from './pipeline.ts'

// One tenant cannot hold up another's webhooks, and a failing endpoint stops costing
// attempts early: real Postgres, real Redis, a real receiver on loopback whose /hang
// paths accept the request and never answer.
const services = useIsolatedServices()
const logger = createLogger({ service: 'worker-test', level: 'silent', pretty: false })
// Longer than any test here: a hanging attempt never ends on its own, so whatever arrives
// while attempts hang did not wait for any of them. The tests end hangs themselves.
const TIMEOUT_MS = 120_000
const PER_ORGANIZATION = 3
const PER_ENDPOINT = 2
const WORKER_CONCURRENCY = 10

/** Requests that arrived, by path. */
const arrivals = new Map<string, number>()
const hanging = new Set<Socket>()
/** Requests to /hang/<group>/... being held now, the most at once, and in all, by group. */
const hangingNow = new Map<string, number>()
const mostHangingAtOnce = new Map<string, number>()
const hangRequests = new Map<string, number>()
const bump = (counts: Map<string, number>, group: string, by: number) =>
  counts.set(group, (counts.get(group) ?? 0) + by)
let receiver: Server
let base = ''

let pipeline: ReturnType<typeof startPipeline>
let workerDb: PrismaClient
let producers: ReturnType<typeof startPipeline>['producers']
let workers: Worker[] = []
let deadLetters: DeadLetterQueue
let coreDeps: CoreDeps
let deliveryDeps: WebhookDeliveryDeps

beforeAll(async () => {
  receiver = createServer((request, response) => {
    const path = request.url ?? '/'
    arrivals.set(path, (arrivals.get(path) ?? 0) + 1)
    request.resume()
    if (path.startsWith('/hang/')) {
      const group = path.split('/')[2] as string
      bump(hangRequests, group, 1)
      bump(hangingNow, group, 1)
      mostHangingAtOnce.set(
        group,
        Math.max(mostHangingAtOnce.get(group) ?? 0, hangingNow.get(group) ?? 0),
      )
      hanging.add(request.socket)
      request.socket.once('close', () => {
        bump(hangingNow, group, -1)
        hanging.delete(request.socket)
      })
      return // never answers: the sender's timeout ends it
    }
    if (path.startsWith('/down')) response.writeHead(503).end('down')
    else response.writeHead(204).end()
  })
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve))
  base = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}`

  pipeline = startPipeline(services(), logger)
  ;({ workerDb, producers, workers, coreDeps } = pipeline)
  deliveryDeps = {
    db: workerDb,
    secretsKey: TEST_SECRETS_KEY,
    allowPrivateTargets: true,
    timeoutMs: TIMEOUT_MS,
    disableAfterFailures: 1_000,
    appUrl: 'https://app.example.com',
    // The fairness test counts real connections; the circuit has its own test below.
    circuit: { openAfter: 1_000, cooldownMs: 1_000 },
    // One attempt each: a deferral taken for a last failure would file a dead letter.
    deliveryJob: { ...webhookDeliveryJob, attempts: 1 },
  }
  const handlers = webhookHandlers({
    ...deliveryDeps,
    slots: redisDeliverySlots(pipeline.redis, {
      perOrganization: PER_ORGANIZATION,
      perEndpoint: PER_ENDPOINT,
      holdMs: TIMEOUT_MS + 10_000,
      prefix: 'fairness-test',
    }),
    busyRetryMs: 200,
  })
  const { connection } = pipeline
  deadLetters = openDeadLetters(pipeline.redis)
  workers.push(
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
      concurrency: WORKER_CONCURRENCY,
      logger,
      deadLetters,
    }),
  )
})

/** Ends every hanging attempt now (the connection is reset): the attempt fails. */
const endHangs = () => {
  for (const socket of hanging) socket.destroy()
}

/** Runs `work` (pausing or stopping workers) while ending hangs, which it waits for. */
async function endingHangs(work: Promise<unknown>) {
  let done = false
  const finished = work.finally(() => {
    done = true
  })
  await waitUntil(
    () => {
      endHangs()
      return done
    },
    { what: 'the workers to finish their attempts', intervalMs: 20 },
  )
  await finished
}

afterAll(async () => {
  await endingHangs(pipeline?.stop() ?? Promise.resolve())
  await deadLetters?.close()
  receiver?.closeAllConnections()
  await new Promise((resolve) => receiver?.close(resolve))
})

const owner = (sql: string, values: unknown[] = []) =>
  ownerQuery(services().database.url, sql, values)

async function tenant(name: string, paths: string[]) {
  const { actor, orgId } = await seedOrganization(services().database.url, name)
  const endpoints = []
  for (const path of paths)
    endpoints.push(
      (
        await createWebhookEndpoint(
          coreDeps,
          { ...actor, emailVerified: true },
          { url: `${base}${path}`, events: ['project.created'] },
        )
      ).endpoint,
    )
  return { actor, orgId, endpoints }
}

/** Commits a change and waits for its delivery to reach `path`. */
async function deliver(actor: Awaited<ReturnType<typeof tenant>>['actor'], path: string) {
  const before = arrivals.get(path) ?? 0
  await createProject(coreDeps, actor, { name: `Project ${crypto.randomUUID()}` })
  await expect
    .poll(() => arrivals.get(path) ?? 0, { timeout: 15_000, interval: 10 })
    .toBe(before + 1)
}

describe('webhook delivery fairness', () => {
  it("keeps one tenant's hanging endpoints from delaying another tenant's deliveries", async () => {
    const quiet = await tenant('Quiet', ['/fast-quiet'])
    await deliver(quiet.actor, '/fast-quiet')

    // 20 endpoints that accept the request and never answer; two events for each: 40
    // deliveries, four times the worker's concurrency, each holding its slot for the
    // whole timeout if it gets one.
    const noisy = await tenant(
      'Noisy',
      Array.from({ length: 20 }, (_, i) => `/hang/noisy/${i}`),
    )
    await createProject(coreDeps, noisy.actor, { name: 'Flood 1' })
    await createProject(coreDeps, noisy.actor, { name: 'Flood 2' })
    await expect
      .poll(() => hangingNow.get('noisy'), { timeout: 10_000, interval: 10 })
      .toBe(PER_ORGANIZATION)

    // The stated bound (ADR 017): the quiet tenant's delivery arrives while the noisy
    // tenant's attempts hang, without waiting for any of them. Without the slots they fill
    // the worker, and it would wait for one to time out: never, in this test.
    await deliver(quiet.actor, '/fast-quiet')
    expect(hangingNow.get('noisy')).toBe(hangRequests.get('noisy'))
    // The noisy tenant never held more than its share of the slots.
    expect(mostHangingAtOnce.get('noisy')).toBe(PER_ORGANIZATION)
    // And the queue's order: a delivery of a tenant with no backlog is queued first
    // (priority 1); the noisy tenant's next ones would queue behind its backlog.
    const [quietDelivery] = await owner(
      `SELECT (options->>'priority')::int AS priority FROM outbox_messages
       WHERE organization_id = $1 AND job_name = 'webhooks.deliver'
       ORDER BY created_at DESC LIMIT 1`,
      [quiet.orgId],
    )
    expect(quietDelivery).toEqual({ priority: 1 })
    const noisyNext = await withTenant(workerDb, { organizationId: noisy.orgId }, (tx) =>
      deliveryPriority(tx, noisy.orgId),
    )
    expect(noisyNext).toBeGreaterThan(20)

    // A delivery that found no free slot came back later without using up an attempt:
    // every recorded attempt of the noisy tenant is a request the receiver saw. (Pausing
    // waits for the running attempts, which end when their connections are reset.)
    await endingHangs(Promise.all(workers.map((worker) => worker.pause())))
    const [{ n }] = await owner(
      'SELECT count(*)::int AS n FROM webhook_delivery_attempts WHERE organization_id = $1',
      [noisy.orgId],
    )
    expect(n).toBe(hangRequests.get('noisy'))
    expect(n).toBeGreaterThanOrEqual(PER_ORGANIZATION)
    const [{ untried }] = await owner(
      `SELECT count(*)::int AS untried FROM webhook_deliveries
       WHERE organization_id = $1 AND status = 'pending' AND attempt_count = 0`,
      [noisy.orgId],
    )
    expect(untried).toBeGreaterThan(0)
    // ...and BullMQ agrees: no retry was used by a deferral.
    const jobs = (
      await producers.get(WEBHOOK_DELIVERIES_QUEUE).getJobs(['delayed', 'waiting', 'prioritized'])
    ).filter((job) => job.data.context.organizationId === noisy.orgId)
    expect(jobs.length).toBeGreaterThan(0)
    const recorded = new Map(
      (
        await owner('SELECT id, attempt_count FROM webhook_deliveries WHERE organization_id = $1', [
          noisy.orgId,
        ])
      ).map((row) => [row.id, row.attempt_count]),
    )
    for (const job of jobs) expect(job.attemptsMade).toBe(recorded.get(job.data.payload.deliveryId))
    expect(await deadLetters.count()).toBe(0)
    // Done with the noisy tenant: its remaining deliveries are canceled when they next run.
    await owner('UPDATE webhook_endpoints SET disabled_at = now() WHERE organization_id = $1', [
      noisy.orgId,
    ])
    for (const worker of workers) worker.resume()
  })

  it('sends at most the per-endpoint number of attempts to one endpoint at once', async () => {
    const { actor, orgId } = await tenant('One endpoint', ['/hang/single'])
    for (let i = 0; i < 4; i++) await createProject(coreDeps, actor, { name: `Single ${i}` })
    // Two hang, and the other two, finding no free slot, are put off (delayed), not sent.
    const deferred = async () =>
      (await producers.get(WEBHOOK_DELIVERIES_QUEUE).getJobs(['delayed'])).filter(
        (job) => job.data.context.organizationId === orgId,
      ).length
    await expect
      .poll(async () => ({ hanging: hangingNow.get('single'), deferred: await deferred() }), {
        timeout: 15_000,
        interval: 20,
      })
      .toEqual({ hanging: PER_ENDPOINT, deferred: 4 - PER_ENDPOINT })
    // Once the two end, the other two get their turn.
    endHangs()
    await expect.poll(() => hangRequests.get('single'), { timeout: 15_000, interval: 10 }).toBe(4)
    expect(mostHangingAtOnce.get('single')).toBe(PER_ENDPOINT)
    endHangs()
    await owner('UPDATE webhook_endpoints SET disabled_at = now() WHERE organization_id = $1', [
      orgId,
    ])
  })
})

describe('the circuit breaker of a failing endpoint', () => {
  it('opens after N failed attempts, holds attempts back unsent, probes once, and closes on a success', async () => {
    // A cool-down no test outlasts: it ends when the test moves the deadline into the past.
    const circuit = { openAfter: 3, cooldownMs: 600_000 }
    const deps = { ...deliveryDeps, circuit }
    const { orgId, endpoints } = await tenant('Circuit', ['/down-circuit'])
    const endpoint = endpoints[0] as { id: string }
    const pending = async () => {
      const [row] = await owner(
        `INSERT INTO webhook_deliveries (id, organization_id, endpoint_id, event_id, event_type, payload)
         VALUES (gen_random_uuid(), $1, $2, 'msg_' || md5(random()::text), 'project.created', '{}') RETURNING id`,
        [orgId, endpoint.id],
      )
      return row.id as string
    }
    const attempt = async (deliveryId?: string) =>
      deliverWebhook(deps, {
        organizationId: orgId,
        deliveryId: deliveryId ?? (await pending()),
        final: false,
      })
    const sent = () => arrivals.get('/down-circuit') ?? 0
    const state = async () =>
      (
        await owner(
          'SELECT failed_attempts_in_row, circuit_open_until FROM webhook_endpoints WHERE id = $1',
          [endpoint.id],
        )
      )[0] as { failed_attempts_in_row: number; circuit_open_until: Date | null }
    /** The cool-down is over: the deadline is moved into the past, as time would. */
    const lapse = () =>
      owner(
        "UPDATE webhook_endpoints SET circuit_open_until = now() - interval '1 second' WHERE id = $1",
        [endpoint.id],
      )
    /** Runs `work` and returns the clock before and after it. */
    const timed = async (work: () => Promise<unknown>) => {
      const before = Date.now()
      await work()
      return { before, after: Date.now() }
    }

    // Three attempts (of different deliveries) fail: the third opens the circuit.
    for (let i = 0; i < 2; i++)
      expect(await attempt()).toMatchObject({ outcome: 'failed', heldBack: false })
    const third = await timed(async () =>
      expect(await attempt()).toMatchObject({ outcome: 'failed', heldBack: false }),
    )
    expect(sent()).toBe(3)
    const opened = await state()
    expect(opened.failed_attempts_in_row).toBe(3)
    const openedUntil = opened.circuit_open_until?.getTime() ?? 0
    expect(openedUntil).toBeGreaterThanOrEqual(third.before + circuit.cooldownMs)
    expect(openedUntil).toBeLessThanOrEqual(third.after + circuit.cooldownMs)

    // While open: recorded as an attempt, not sent, not counted towards the pause.
    const heldBackDelivery = await pending()
    expect(await attempt(heldBackDelivery)).toMatchObject({ outcome: 'failed', heldBack: true })
    expect(sent()).toBe(3)
    expect(
      await owner(
        'SELECT attempt, response_status, succeeded, error FROM webhook_delivery_attempts WHERE delivery_id = $1',
        [heldBackDelivery],
      ),
    ).toEqual([
      {
        attempt: 1,
        response_status: null,
        succeeded: false,
        error: expect.stringMatching(/^not sent: the endpoint's last 3 attempts failed/),
      },
    ])
    expect((await state()).failed_attempts_in_row).toBe(3)

    // Half-open: of two attempts at once, one probes and the other is held back. The
    // failed probe opens the circuit again for twice as long.
    await lapse()
    let outcomes: unknown[] = []
    const probe = await timed(async () => {
      outcomes = await Promise.all([attempt(), attempt()])
    })
    expect(outcomes.map((o) => (o as { heldBack: boolean }).heldBack).sort()).toEqual([false, true])
    expect(sent()).toBe(4)
    const reopened = await state()
    expect(reopened.failed_attempts_in_row).toBe(4)
    const reopenedUntil = reopened.circuit_open_until?.getTime() ?? 0
    expect(reopenedUntil).toBeGreaterThanOrEqual(probe.before + 2 * circuit.cooldownMs)
    expect(reopenedUntil).toBeLessThanOrEqual(probe.after + 2 * circuit.cooldownMs)

    // The endpoint recovers: the next probe succeeds and closes the circuit.
    await owner(`UPDATE webhook_endpoints SET url = $1 WHERE id = $2`, [
      `${base}/ok-circuit`,
      endpoint.id,
    ])
    await lapse()
    expect(await attempt()).toMatchObject({ outcome: 'succeeded' })
    expect(await state()).toEqual({ failed_attempts_in_row: 0, circuit_open_until: null })
    expect(await attempt()).toMatchObject({ outcome: 'succeeded' })
    expect(arrivals.get('/ok-circuit')).toBe(2)
  })
})
