// pnpm bench:webhooks — how long a quiet tenant's webhook takes to arrive while another
// tenant's 20 endpoints accept connections and never answer, with the delivery slots of
// ADR 017 and without them, beside the same delivery on an idle system (same run, same
// databases). Real Postgres, Redis, worker pipeline and loopback receiver.

import { createServer, type Server } from 'node:http'
import type { AddressInfo, Socket } from 'node:net'
import { cpus } from 'node:os'
import { loadEnvOrExit, positiveInt } from '@repo/config'
import { createProject, createWebhookEndpoint, type WebhookDeliveryDeps } from '@repo/core'
import { createDatabaseClient } from '@repo/db'
import {
  jobEnvelope,
  jobOptions,
  openQueues,
  WEBHOOK_DELIVERIES_QUEUE,
  WEBHOOKS_QUEUE,
  webhookDeliveryJob,
} from '@repo/jobs'
import { createLogger } from '@repo/observability'
import type { Worker } from 'bullmq'
import { Redis } from 'ioredis'
import pg from 'pg'
import { z } from 'zod'
import { TEMPLATE_DATABASE } from '../../../packages/testing/src/context.ts'
import { cloneDatabase } from '../../../packages/testing/src/database.ts'
import { createTemplate } from '../../../packages/testing/src/global-setup.ts'
import {
  type PostgresServer,
  type RedisServer,
  startEphemeralPostgres,
  startEphemeralRedis,
} from '../../../packages/testing/src/servers/index.ts'
import { createWorker } from '../src/create-worker.ts'
import { createOutboxRelay } from '../src/outbox-relay.ts'
import { redisDeliverySlots } from '../src/webhook-slots.ts'
import { webhookHandlers } from '../src/webhooks.ts'
import { seedOrganization } from '../test/helpers.ts'
import { TEST_SECRETS_KEY, testCoreDeps } from '../test/pipeline.ts'

const env = loadEnvOrExit(
  z.object({
    BENCH_BACKLOGS: z.string().default('40,3000'),
    BENCH_TIMEOUT_MS: positiveInt(3_000),
    BENCH_SAMPLES: positiveInt(5),
    /** A phase without slots stops waiting after this long. */
    BENCH_GIVE_UP_MS: positiveInt(30_000),
  }),
)
const backlogs = env.BENCH_BACKLOGS.split(',').map(Number)
const logger = createLogger({ service: 'bench', level: 'silent', pretty: false })
const CONCURRENCY = 10

const arrivals = new Map<string, number[]>()
const hanging = new Set<Socket>()
function startReceiver() {
  const server = createServer((request, response) => {
    const path = request.url ?? '/'
    arrivals.set(path, [...(arrivals.get(path) ?? []), Date.now()])
    request.resume()
    if (path.startsWith('/hang/')) {
      hanging.add(request.socket)
      request.socket.once('close', () => hanging.delete(request.socket))
      return
    }
    response.writeHead(204).end()
  })
  return new Promise<Server>((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)))
}

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.floor(sorted.length / 2)] as number
}

let postgres: PostgresServer | undefined
let redisServer: RedisServer | undefined
let receiver: Server | undefined
try {
  ;[postgres, redisServer] = await Promise.all([
    startEphemeralPostgres('local'),
    startEphemeralRedis({ runtime: 'local', databases: 1 }),
  ])
  await createTemplate(postgres.url)
  const database = await cloneDatabase(postgres.url, TEMPLATE_DATABASE)
  receiver = await startReceiver()
  const base = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}`
  const owner = new pg.Client({ connectionString: database.url })
  await owner.connect()
  const databaseEnv = {
    DATABASE_POOL_MAX: 10,
    DATABASE_CONNECT_TIMEOUT_MS: 5_000,
    DATABASE_STATEMENT_TIMEOUT_MS: 10_000,
  }
  const appDb = createDatabaseClient({ ...databaseEnv, DATABASE_URL: database.appUrl })
  const workerDb = createDatabaseClient({ ...databaseEnv, DATABASE_URL: database.workerUrl })
  const redis = new Redis(redisServer.url, { maxRetriesPerRequest: null })
  const producerRedis = new Redis(redisServer.url, { maxRetriesPerRequest: 1 })
  const producers = openQueues(producerRedis)
  const coreDeps = testCoreDeps(appDb, redis, logger)

  async function tenant(name: string, paths: string[]) {
    const { actor } = await seedOrganization(database.url, name)
    const endpoints: string[] = []
    for (const path of paths)
      endpoints.push(
        (
          await createWebhookEndpoint(
            coreDeps,
            { ...actor, emailVerified: true },
            { url: `${base}${path}`, events: ['project.created'] },
          )
        ).endpoint.id,
      )
    return { actor, endpoints }
  }

  /** Milliseconds from a committed change to its delivery's arrival, or null past `giveUpMs`. */
  async function latency(
    actor: { organizationId: string; userId: string; role: 'owner' },
    path: string,
    giveUpMs: number,
  ) {
    const before = arrivals.get(path)?.length ?? 0
    const started = Date.now()
    await createProject(coreDeps, actor, { name: `P ${crypto.randomUUID()}` })
    while ((arrivals.get(path)?.length ?? 0) <= before) {
      if (Date.now() - started > giveUpMs) return null
      await new Promise((resolve) => setTimeout(resolve, 5))
    }
    return (arrivals.get(path)?.[before] as number) - started
  }

  /** One phase: fresh workers (with or without slots), a noisy backlog, quiet samples. */
  async function phase(label: string, withSlots: boolean, backlog: number) {
    const deliveryDeps: WebhookDeliveryDeps & { busyRetryMs?: number } = {
      db: workerDb,
      secretsKey: TEST_SECRETS_KEY,
      allowPrivateTargets: true,
      timeoutMs: env.BENCH_TIMEOUT_MS,
      disableAfterFailures: 1_000_000,
      appUrl: 'https://app.example.com',
      circuit: { openAfter: 1_000_000, cooldownMs: 1_000 },
      deliveryJob: { ...webhookDeliveryJob, attempts: 1 },
      ...(withSlots
        ? {
            slots: redisDeliverySlots(redis, {
              perOrganization: 5,
              perEndpoint: 2,
              holdMs: env.BENCH_TIMEOUT_MS + 10_000,
              prefix: `bench-${crypto.randomUUID()}`,
            }),
          }
        : {}),
    }
    const handlers = webhookHandlers(deliveryDeps)
    const connection = { url: redisServer?.url as string }
    const workers: Worker[] = [
      createWorker({
        queue: WEBHOOKS_QUEUE,
        connection,
        handlers: handlers.events,
        concurrency: 4,
        logger,
      }),
      createWorker({
        queue: WEBHOOK_DELIVERIES_QUEUE,
        connection,
        handlers: handlers.deliveries,
        concurrency: CONCURRENCY,
        logger,
      }),
    ]
    const relay = createOutboxRelay({
      db: workerDb,
      logger,
      queueFor: producers.get,
      fallbackPollMs: 20,
    })
    relay.start()
    const quiet = await tenant(`Quiet ${label}`, [`/fast/${label}`])
    const idle: number[] = []
    for (let i = 0; i < env.BENCH_SAMPLES; i++)
      idle.push((await latency(quiet.actor, `/fast/${label}`, env.BENCH_GIVE_UP_MS)) as number)

    // The noisy tenant's backlog: delivery rows and their jobs, as fan-outs of 20 events
    // each leave them (each event's priority: one more than the backlog before it).
    const noisy = await tenant(
      `Noisy ${label}`,
      Array.from({ length: 20 }, (_, i) => `/hang/${label}/${i}`),
    )
    const rows = await owner.query(
      `INSERT INTO webhook_deliveries (id, organization_id, endpoint_id, event_id, event_type, payload)
       SELECT gen_random_uuid(), $1, ($2::uuid[])[1 + i % 20], 'msg_' || md5(random()::text), 'project.created', '{}'
       FROM generate_series(1, $3::int) i RETURNING id`,
      [noisy.actor.organizationId, noisy.endpoints, backlog],
    )
    const definition = deliveryDeps.deliveryJob ?? webhookDeliveryJob
    await producers.get(WEBHOOK_DELIVERIES_QUEUE).addBulk(
      rows.rows.map((row: { id: string }, i: number) => {
        const data = jobEnvelope(
          definition,
          { deliveryId: row.id },
          {
            organizationId: noisy.actor.organizationId,
          },
        )
        return {
          name: definition.name,
          data,
          opts: jobOptions(definition, {
            payload: data.payload,
            priority: 1 + Math.floor(i / 20) * 20,
          }),
        }
      }),
    )
    // Let the backlog start hanging before measuring.
    await new Promise((resolve) => setTimeout(resolve, 1_000))
    const loaded: Array<number | null> = []
    for (let i = 0; i < env.BENCH_SAMPLES; i++)
      loaded.push(await latency(quiet.actor, `/fast/${label}`, env.BENCH_GIVE_UP_MS))

    await relay.stop()
    for (const socket of hanging) socket.destroy()
    await Promise.all(workers.map((worker) => worker.close(true)))
    await producers.get(WEBHOOK_DELIVERIES_QUEUE).obliterate({ force: true })
    await producers.get(WEBHOOKS_QUEUE).obliterate({ force: true })
    const given = loaded.filter((value): value is number => value !== null)
    return {
      phase: label,
      slots: withSlots ? 'on' : 'off',
      'noisy backlog': backlog,
      'idle median ms': median(idle),
      'loaded median ms':
        given.length === loaded.length ? median(given) : `> ${env.BENCH_GIVE_UP_MS}`,
      'loaded max ms':
        given.length === loaded.length ? Math.max(...given) : `> ${env.BENCH_GIVE_UP_MS}`,
    }
  }

  const results = []
  for (const backlog of backlogs) results.push(await phase(`slots-${backlog}`, true, backlog))
  results.push(await phase(`no-slots-${backlogs[0]}`, false, backlogs[0] as number))
  console.log(
    `\nwebhook fairness: ${cpus().length} CPUs, Node ${process.version}, worker concurrency ${CONCURRENCY}, attempt timeout ${env.BENCH_TIMEOUT_MS} ms, ${env.BENCH_SAMPLES} samples each`,
  )
  console.table(results)
  await owner.end()
  await Promise.all([appDb.$disconnect(), workerDb.$disconnect()])
  await producers.close()
  producerRedis.disconnect()
  redis.disconnect()
} finally {
  for (const socket of hanging) socket.destroy()
  receiver?.closeAllConnections()
  receiver?.close()
  await Promise.all([postgres?.stop(), redisServer?.stop()])
}
