import { createServer as createHttpServer } from 'node:http'
import { type AddressInfo, connect, createServer, type Socket } from 'node:net'
import { addToOutbox, createWebhookEndpoint } from '@repo/core'
import { type PrismaClient, withTenant } from '@repo/db'
import {
  DEAD_LETTER_QUEUE,
  defineJob,
  enqueueJob,
  openDeadLetters,
  openQueues,
  webhookDeliveryJob,
} from '@repo/jobs'
import { createLogger, type MetricsServer, startMetricsServer } from '@repo/observability'
import {
  type Exposition,
  metricsContract,
  scrapeMetrics,
  seriesOf,
  startGatedPort,
  useIsolatedServices,
  waitUntil,
} from '@repo/testing'
import { type Job, Queue, QueueEvents } from 'bullmq'
import { Redis } from 'ioredis'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { z } from 'zod'
import { createWorker } from '../src/create-worker.ts'
import { definedHandler } from '../src/define-handler.ts'
import { createWorkerMetrics } from '../src/metrics.ts'
import { webhookHandlers } from '../src/webhooks.ts'
import { ownerQuery, seedOrganization, startWorkerProcess, testDatabaseClient } from './helpers.ts'
import { TEST_SECRETS_KEY, testCoreDeps } from './pipeline.ts'

// The worker's Prometheus metrics, scraped over HTTP: the contract's names and labels from
// the real process, job outcomes, queue and outbox figures read from real Redis and
// Postgres at scrape time, and a scrape that stays bounded when Redis is down or frozen.
const services = useIsolatedServices()
const logger = createLogger({ service: 'worker-test', level: 'silent', pretty: false })
const value = (exposition: Exposition, name: string, labels: Record<string, string> = {}) =>
  exposition.samples.find(
    (sample) =>
      sample.name === name &&
      Object.entries(labels).every(([key, expected]) => sample.labels[key] === expected),
  )?.value

/** Metrics of this test's own, served over HTTP like the worker's. */
async function serveMetrics(options: Partial<Parameters<typeof createWorkerMetrics>[0]>) {
  const metrics = createWorkerMetrics({ version: '1.0.0', commit: 'c0ffee', logger, ...options })
  const server = await startMetricsServer({
    metrics: metrics.metrics,
    host: '127.0.0.1',
    port: 0,
    logger,
  })
  return { metrics, server, url: `http://127.0.0.1:${server.port}/metrics` }
}

/**
 * A TCP proxy to Redis that can freeze: connections stay open and requests still arrive,
 * but no answer comes back (a Redis stuck on a long command, a network black hole).
 */
async function startFreezingProxy(target: number) {
  let frozen = false
  const sockets = new Set<Socket>()
  const server = createServer((client) => {
    const upstream = connect(target, '127.0.0.1')
    for (const socket of [client, upstream]) {
      sockets.add(socket)
      socket.on('error', () => {})
      socket.once('close', () => sockets.delete(socket))
    }
    client.pipe(upstream)
    upstream.on('data', (chunk) => {
      if (!frozen) client.write(chunk)
    })
    client.once('close', () => upstream.destroy())
    upstream.once('close', () => client.destroy())
  })
  await new Promise<void>((listening) => server.listen(0, '127.0.0.1', listening))
  return {
    port: (server.address() as AddressInfo).port,
    freeze: () => {
      frozen = true
    },
    close: () =>
      new Promise<void>((closed) => {
        for (const socket of sockets) socket.destroy()
        server.close(() => closed())
      }),
  }
}

describe('the worker process', () => {
  it('serves every metric of the contract with exactly its labels', async () => {
    const { redis, database } = services()
    const worker = startWorkerProcess({
      NODE_ENV: 'test',
      LOG_LEVEL: 'info',
      REDIS_URL: redis.url,
      DATABASE_URL: database.workerUrl,
      METRICS_ENABLED: 'true',
      WORKER_METRICS_PORT: '0',
      APP_VERSION: '4.5.6',
      GIT_COMMIT: 'f00d123',
    })
    const queues = openQueues({ url: redis.url })
    try {
      const port = () =>
        worker.output().match(/"port":(\d+)[^\n]*"msg":"metrics server listening"/)?.[1]
      await waitUntil(() => port() !== undefined, {
        what: 'the metrics server',
        gaveUp: () => (worker.child.exitCode === null ? undefined : 'the worker exited'),
        detail: worker.output,
      })
      const url = `http://127.0.0.1:${port()}/metrics`
      // Work for each family: a job, a webhook delivery (of a delivery that does not exist).
      const { orgId } = await seedOrganization(database.url, 'Metrics')
      await queues.get('default').add('system.ping', {})
      await enqueueJob(
        queues.get(webhookDeliveryJob.queue),
        webhookDeliveryJob,
        { deliveryId: crypto.randomUUID() },
        { context: { organizationId: orgId } },
      )
      let exposition: Exposition | undefined
      await expect
        .poll(
          async () => {
            exposition = await scrapeMetrics(url)
            return (
              seriesOf(exposition, 'webhook_deliveries_total').length > 0 &&
              seriesOf(exposition, 'job_duration_seconds').length >= 2
            )
          },
          { timeout: 15_000, interval: 200 },
        )
        .toBe(true)
      const scraped = exposition as Exposition
      for (const metric of metricsContract('worker')) {
        expect(scraped.types.get(metric.name), metric.name).toBe(metric.type)
        const series = seriesOf(scraped, metric.name)
        expect(series.length, `${metric.name} has series`).toBeGreaterThan(0)
        for (const labels of series)
          expect(Object.keys(labels).sort(), metric.name).toEqual(
            [...metric.labels, 'service'].sort(),
          )
      }
      for (const sample of scraped.samples) expect(sample.labels.service).toBe('worker')
      expect(value(scraped, 'app_build_info', { version: '4.5.6', commit: 'f00d123' })).toBe(1)
      expect(value(scraped, 'webhook_deliveries_total', { outcome: 'skipped' })).toBe(1)
      expect(
        value(scraped, 'job_duration_seconds_count', {
          queue: 'default',
          job_name: 'system.ping',
          outcome: 'completed',
        }),
      ).toBe(1)
      expect(value(scraped, 'readiness_status', { dependency: 'redis' })).toBe(1)
      expect(value(scraped, 'readiness_status', { dependency: 'postgres' })).toBe(1)
      expect(
        value(scraped, 'db_pool_connections', { pool: 'worker', state: 'total' }),
      ).toBeGreaterThan(0)
      expect(value(scraped, 'queue_jobs', { queue: 'dead-letter', state: 'waiting' })).toBe(0)
      expect(value(scraped, 'outbox_backlog')).toBe(0)
    } finally {
      if (worker.child.exitCode === null) worker.child.kill('SIGKILL')
      await queues.close()
    }
  })
})

describe('job outcomes', () => {
  const QUEUE = 'metrics-jobs'
  const flaky = defineJob({
    name: 'test.flaky',
    version: 1,
    queue: QUEUE,
    schema: z.object({ n: z.number() }).strict(),
    attempts: 2,
    backoff: { type: 'exponential', delay: 10, jitter: 0 },
  })
  let connection: Redis
  let queue: Queue
  let events: QueueEvents
  let served: Awaited<ReturnType<typeof serveMetrics>>

  beforeAll(async () => {
    const { url } = services().redis
    connection = new Redis(url, { maxRetriesPerRequest: null })
    queue = new Queue(QUEUE, { connection })
    events = new QueueEvents(QUEUE, { connection: { url } })
    await events.waitUntilReady()
    served = await serveMetrics({})
  })
  afterAll(async () => {
    await events?.close()
    await queue?.close()
    await served?.server.close()
    connection?.disconnect()
  })

  it('counts a failed attempt, then the dead letter, and jobs nobody handles', async () => {
    const deadLetters = openDeadLetters(connection)
    const worker = createWorker({
      queue: QUEUE,
      connection,
      concurrency: 1,
      logger,
      deadLetters,
      metrics: served.metrics,
      handlers: {
        [flaky.name]: definedHandler(flaky, async () => {
          throw new Error('always down')
        }),
      },
    })
    try {
      const job = (await enqueueJob(queue, flaky, { n: 1 })) as Job
      await expect(job.waitUntilFinished(events, 10_000)).rejects.toThrow('always down')
      const stray = await queue.add(`made-up-${crypto.randomUUID()}`, {}, { attempts: 3 })
      await expect(stray.waitUntilFinished(events, 10_000)).rejects.toThrow(/no handler/)

      const exposition = await scrapeMetrics(served.url)
      const count = (job_name: string, outcome: string) =>
        value(exposition, 'job_duration_seconds_count', { queue: QUEUE, job_name, outcome })
      expect(count(flaky.name, 'failed')).toBe(1)
      expect(count(flaky.name, 'dead_letter')).toBe(1)
      expect(count(flaky.name, 'completed')).toBeUndefined()
      // Its name came from whoever enqueued it: one bucket for every such job.
      expect(count('__unknown__', 'dead_letter')).toBe(1)
      expect(JSON.stringify(seriesOf(exposition, 'job_duration_seconds'))).not.toContain('made-up-')
    } finally {
      await worker.close()
      await deadLetters.close()
    }
  })
})

describe('webhook deliveries', () => {
  it('counts each attempt: delivered, failed with attempts left, and the last failure', async () => {
    const receiver = createHttpServer((request, response) => {
      request.resume()
      request.on('end', () => response.writeHead(request.url === '/ok' ? 204 : 503).end())
    })
    await new Promise<void>((listening) => receiver.listen(0, '127.0.0.1', listening))
    const base = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}`
    const { url } = services().redis
    const appDb = testDatabaseClient(services().database.appUrl)
    const workerDb = testDatabaseClient(services().database.workerUrl)
    const redis = new Redis(url, { maxRetriesPerRequest: null })
    // Two attempts, 20 ms apart (the real definition: ten over hours).
    const deliveryJob = {
      ...webhookDeliveryJob,
      attempts: 2,
      backoff: { type: 'exponential' as const, delay: 20, jitter: 0 },
    }
    const queue = new Queue(deliveryJob.queue, { connection: redis })
    const served = await serveMetrics({})
    const handlers = webhookHandlers({
      db: workerDb,
      secretsKey: TEST_SECRETS_KEY,
      allowPrivateTargets: true,
      timeoutMs: 2_000,
      disableAfterFailures: 5,
      appUrl: 'https://app.example.com',
      metrics: served.metrics,
    })
    const worker = createWorker({
      queue: deliveryJob.queue,
      connection: redis,
      concurrency: 2,
      logger,
      handlers: handlers.deliveries,
      metrics: served.metrics,
    })
    try {
      const { orgId, actor } = await seedOrganization(services().database.url, 'Hooks')
      const coreDeps = testCoreDeps(appDb, redis, logger)
      const deliveries: string[] = []
      for (const path of ['/ok', '/down']) {
        const { endpoint } = await createWebhookEndpoint(
          coreDeps,
          { ...actor, emailVerified: true },
          { url: `${base}${path}`, events: ['project.created'] },
        )
        const [row] = await ownerQuery(
          services().database.url,
          `INSERT INTO webhook_deliveries (id, organization_id, endpoint_id, event_id, event_type, payload)
           VALUES (gen_random_uuid(), $1, $2, $3, 'project.created', '{}') RETURNING id`,
          [orgId, endpoint.id, `msg_${crypto.randomUUID().replaceAll('-', '')}`],
        )
        deliveries.push(row.id)
        await enqueueJob(
          queue,
          deliveryJob,
          { deliveryId: row.id },
          {
            context: { organizationId: orgId },
          },
        )
      }
      const outcomes = async () => {
        const exposition = await scrapeMetrics(served.url)
        return Object.fromEntries(
          ['delivered', 'failed', 'dead_letter', 'skipped'].map((outcome) => [
            outcome,
            value(exposition, 'webhook_deliveries_total', { outcome }),
          ]),
        )
      }
      await expect
        .poll(outcomes, { timeout: 15_000 })
        .toEqual({ delivered: 1, failed: 1, dead_letter: 1, skipped: undefined })
      const statuses = await ownerQuery(
        services().database.url,
        'SELECT status::text FROM webhook_deliveries WHERE id = ANY($1) ORDER BY 1',
        [deliveries],
      )
      expect(statuses.map((row) => row.status)).toEqual(['failed', 'succeeded'])
    } finally {
      await worker.close()
      await queue.close()
      await served.server.close()
      redis.disconnect()
      await Promise.all([appDb.$disconnect(), workerDb.$disconnect()])
      await new Promise((closed) => receiver.close(closed))
    }
  })
})

describe('queue and outbox figures, read when scraped', () => {
  let db: PrismaClient
  let connection: Redis
  let served: Awaited<ReturnType<typeof serveMetrics>>
  const QUEUE = 'metrics-counted'
  // Queues of their own (a key prefix), dead letters included: other tests' stay apart.
  const prefix = 'metrics-counted'
  const counted = new Map<string, Queue>()

  beforeAll(async () => {
    db = testDatabaseClient(services().database.workerUrl)
    connection = new Redis(services().redis.url, {
      enableOfflineQueue: false,
      maxRetriesPerRequest: 1,
    })
    served = await serveMetrics({
      db,
      queues: {
        names: [QUEUE, DEAD_LETTER_QUEUE],
        get: (name) => {
          let queue = counted.get(name)
          if (!queue) {
            queue = new Queue(name, { connection, prefix })
            counted.set(name, queue)
          }
          return queue
        },
        ready: () => connection.status === 'ready',
      },
    })
  })
  afterAll(async () => {
    await served?.server.close()
    await Promise.all([...counted.values()].map((queue) => queue.close()))
    connection?.disconnect()
    await db?.$disconnect()
  })

  it('counts the jobs of each queue by state, dead letters included', async () => {
    const producer = new Queue(QUEUE, { connection: { url: services().redis.url }, prefix })
    const deadLetters = openDeadLetters({ url: services().redis.url }, prefix)
    try {
      for (let i = 0; i < 3; i++) await producer.add('test.wait', { i })
      await producer.add('test.urgent', {}, { priority: 1 })
      for (let i = 0; i < 2; i++) await producer.add('test.later', { i }, { delay: 600_000 })
      await deadLetters.add('test.dead', {} as never, { jobId: 'metrics-dead-1' })

      const exposition = await scrapeMetrics(served.url)
      const jobs = (queue: string, state: string) =>
        value(exposition, 'queue_jobs', { queue, state })
      expect(jobs(QUEUE, 'waiting')).toBe(4)
      expect(jobs(QUEUE, 'delayed')).toBe(2)
      expect(jobs(QUEUE, 'active')).toBe(0)
      expect(jobs(QUEUE, 'failed')).toBe(0)
      expect(jobs(QUEUE, 'completed')).toBe(0)
      expect(jobs(DEAD_LETTER_QUEUE, 'waiting')).toBe(1)
    } finally {
      await producer.obliterate({ force: true })
      await producer.close()
      await deadLetters.obliterate({ force: true })
      await deadLetters.close()
    }
  })

  it("reports the outbox's backlog and the age of its oldest message", async () => {
    const { orgId } = await seedOrganization(services().database.url, 'Outbox metrics')
    const notify = defineJob({
      name: 'test.notify',
      version: 1,
      queue: 'metrics-outbox',
      schema: z.object({}).strict(),
    })
    for (let i = 0; i < 3; i++)
      await withTenant(db, { organizationId: orgId }, (tx) =>
        addToOutbox(tx, notify, {}, { organizationId: orgId }),
      )
    // The oldest waits for two minutes; one more was published long ago and counts for nothing.
    await ownerQuery(
      services().database.url,
      `UPDATE outbox_messages SET created_at = now() - interval '120 seconds'
       WHERE id = (SELECT id FROM outbox_messages ORDER BY created_at LIMIT 1)`,
    )
    await ownerQuery(
      services().database.url,
      `INSERT INTO outbox_messages (id, queue, job_name, data, options, created_at, published_at)
       VALUES (gen_random_uuid(), 'x', 'x', '{}', '{}', now() - interval '1 day', now())`,
    )
    const exposition = await scrapeMetrics(served.url)
    expect(value(exposition, 'outbox_backlog')).toBe(3)
    const lag = value(exposition, 'outbox_lag_seconds') as number
    expect(lag).toBeGreaterThanOrEqual(120)
    expect(lag).toBeLessThan(180)

    await ownerQuery(services().database.url, 'UPDATE outbox_messages SET published_at = now()')
    const drained = await scrapeMetrics(served.url)
    expect(value(drained, 'outbox_backlog')).toBe(0)
    expect(value(drained, 'outbox_lag_seconds')).toBe(0)
  })
})

describe('when a dependency is down or frozen', () => {
  let servers: MetricsServer[] = []
  afterAll(async () => {
    await Promise.all(servers.map((server) => server.close()))
    servers = []
  })

  /** Metrics counting one queue through `redisPort`, with a one-second bound. */
  async function countingThrough(redisPort: number) {
    const url = new URL(services().redis.url)
    url.port = String(redisPort)
    const connection = new Redis(url.toString(), {
      enableOfflineQueue: false,
      maxRetriesPerRequest: 1,
      retryStrategy: () => 200,
    })
    connection.on('error', () => {})
    await waitUntil(() => connection.status === 'ready', { what: 'the connection' })
    const queues = openQueues(connection)
    const served = await serveMetrics({
      collectTimeoutMs: 1_000,
      queues: {
        names: ['metrics-outage'],
        get: (name) => queues.get(name),
        ready: () => connection.status === 'ready',
      },
    })
    servers.push(served.server)
    // Counted while Redis answers.
    expect(value(await scrapeMetrics(served.url), 'queue_jobs', { state: 'waiting' })).toBe(0)
    return {
      url: served.url,
      close: async () => {
        await queues.close()
        connection.disconnect()
      },
    }
  }

  it('answers the scrape at once without queue figures when Redis is down', async () => {
    const gate = await startGatedPort({ target: Number(new URL(services().redis.url).port) })
    gate.open()
    const counting = await countingThrough(gate.port)
    try {
      gate.shut()
      const started = Date.now()
      const exposition = await scrapeMetrics(counting.url)
      expect(Date.now() - started).toBeLessThan(1_000)
      expect(seriesOf(exposition, 'queue_jobs')).toEqual([])
      expect(value(exposition, 'app_build_info', { version: '1.0.0' })).toBe(1)
    } finally {
      await counting.close()
      await gate.close()
    }
  })

  it('answers the scrape within its bound, the outbox unknown (NaN), when Postgres is frozen', async () => {
    const databaseUrl = new URL(services().database.workerUrl)
    const proxy = await startFreezingProxy(Number(databaseUrl.port))
    databaseUrl.hostname = '127.0.0.1'
    databaseUrl.port = String(proxy.port)
    const db = testDatabaseClient(databaseUrl.toString())
    const served = await serveMetrics({ db, collectTimeoutMs: 1_000 })
    try {
      // Read while Postgres answers (this opens the pool's connection).
      expect(value(await scrapeMetrics(served.url), 'outbox_backlog')).not.toBeNaN()
      proxy.freeze()
      const started = Date.now()
      const exposition = await scrapeMetrics(served.url)
      const took = Date.now() - started
      expect(took).toBeGreaterThanOrEqual(900)
      expect(took).toBeLessThan(2_500)
      expect(value(exposition, 'outbox_backlog')).toBeNaN()
      expect(value(exposition, 'outbox_lag_seconds')).toBeNaN()
    } finally {
      await served.server.close()
      await proxy.close()
      await db.$disconnect()
    }
  })

  it('answers the scrape within its bound without queue figures when Redis is frozen', async () => {
    const proxy = await startFreezingProxy(Number(new URL(services().redis.url).port))
    const counting = await countingThrough(proxy.port)
    try {
      proxy.freeze()
      const started = Date.now()
      const exposition = await scrapeMetrics(counting.url)
      const took = Date.now() - started
      expect(took).toBeGreaterThanOrEqual(900)
      expect(took).toBeLessThan(2_500)
      expect(seriesOf(exposition, 'queue_jobs')).toEqual([])
      expect(value(exposition, 'app_build_info', { version: '1.0.0' })).toBe(1)
    } finally {
      await counting.close()
      await proxy.close()
    }
  })
})
