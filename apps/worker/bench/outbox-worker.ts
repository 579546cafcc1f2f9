// The worker side of the outbox latency bench (outbox-latency.ts), in a process of its
// own, as in production: the real relay (and, with LISTEN_URL, the real listener; with
// PUBLISH_CONCURRENCY, that many publishes at once instead of the default) publish
// through a fail-fast producer, and a real createWorker + definedHandler runs the jobs.
// Each handler start goes to the parent (IPC) with its wall-clock time; the parent asks
// for this process's CPU time at the start and end of the measured window.
import { Writable } from 'node:stream'
import { createDatabaseClient, type PrismaClient } from '@repo/db'
import { createLogger } from '@repo/observability'
import { Queue } from 'bullmq'
import { Redis } from 'ioredis'
import { createWorker } from '../src/create-worker.ts'
import { definedHandler } from '../src/define-handler.ts'
import { createOutboxListener } from '../src/outbox-listener.ts'
import { createOutboxRelay } from '../src/outbox-relay.ts'
import { outboxBenchJob } from './outbox-latency.ts'

const env = (name: string) => process.env[name] ?? ''
const send = (message: unknown) => process.send?.(message)
const logger = createLogger({
  service: 'bench-worker',
  level: 'info',
  pretty: false,
  destination: new Writable({ write: (_chunk, _encoding, done) => done() }),
})
const db = createDatabaseClient({
  DATABASE_URL: env('DATABASE_URL'),
  DATABASE_POOL_MAX: 10,
  DATABASE_CONNECT_TIMEOUT_MS: 5_000,
  DATABASE_STATEMENT_TIMEOUT_MS: 10_000,
})
const producerConnection = new Redis(env('REDIS_URL'), {
  enableOfflineQueue: false,
  maxRetriesPerRequest: 1,
})
const producers = new Map<string, Queue>()
const queueFor = (name: string) => {
  const queue = producers.get(name) ?? new Queue(name, { connection: producerConnection })
  producers.set(name, queue)
  return queue
}

// Handler starts, sent in batches: one IPC message per job would cost this process more
// than the job itself.
let started: Array<[number, number]> = []
const flush = setInterval(() => {
  if (started.length === 0) return
  send({ started })
  started = []
}, 50)
const worker = createWorker({
  queue: outboxBenchJob.queue,
  connection: { url: env('REDIS_URL'), maxRetriesPerRequest: null },
  concurrency: 10,
  logger,
  handlers: {
    [outboxBenchJob.name]: definedHandler(outboxBenchJob, async ({ seq }) => {
      started.push([seq, performance.timeOrigin + performance.now()])
    }),
  },
})
await worker.waitUntilReady()

// Each pass's three steps, timed: claim (Postgres), publish (Redis), mark (Postgres).
const steps = { passes: 0, messages: 0, claimMs: 0, publishMs: 0, markMs: 0 }
let passStarted = 0
let claimed = 0
const timedDb = {
  $queryRaw: async (sql: TemplateStringsArray, ...values: unknown[]) => {
    const text = sql.join('')
    const at = performance.now()
    const rows = await db.$queryRaw(sql, ...values)
    if (text.includes('outbox_claim')) {
      steps.passes++
      claimed = (rows as unknown[]).length
      steps.messages += claimed
      steps.claimMs += performance.now() - at
      passStarted = performance.now()
    } else if (text.includes('outbox_mark_published')) {
      steps.publishMs += at - passStarted
      steps.markMs += performance.now() - at
    }
    return rows
  },
} as unknown as PrismaClient
const relay = createOutboxRelay({
  db: timedDb,
  logger,
  queueFor,
  ...(env('PUBLISH_CONCURRENCY') ? { publishConcurrency: Number(env('PUBLISH_CONCURRENCY')) } : {}),
})
relay.start()
const listener = env('LISTEN_URL')
  ? createOutboxListener({
      connectionString: env('LISTEN_URL'),
      relay: {
        wake: relay.wake,
        listening: (on) => {
          relay.listening(on)
          if (on) send({ listening: true })
        },
      },
      notify: (channel, payload) =>
        db.$queryRaw`SELECT 1 AS sent FROM pg_notify(${channel}, ${payload})`,
      logger,
    })
  : undefined
listener?.start()
send({ ready: true })

process.on('message', async (message: { cpu?: boolean; stop?: boolean }) => {
  if (message.cpu) send({ cpu: process.cpuUsage(), steps: { ...steps } })
  if (message.stop) {
    clearInterval(flush)
    await Promise.all([listener?.stop(), relay.stop()])
    await worker.close()
    await Promise.all([...producers.values()].map((queue) => queue.close()))
    producerConnection.disconnect()
    await db.$disconnect()
    process.disconnect?.()
  }
})
