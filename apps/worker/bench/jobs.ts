// pnpm bench:jobs — 10,000 jobs through the real worker pipeline (a defined job: payload
// validated again, per-job logger with context, timeout race, dead-letter wiring, the
// completion log line) beside raw BullMQ no-op jobs, same Redis, same run, concurrency 10.
// Then the outbox (outbox-latency.ts, ADR 038): the time from a commit to its job's
// handler at a steady rate, the relay polling and woken by commits, in the same run, and
// the commits per second with the outbox trigger off and on.

import { randomBytes } from 'node:crypto'
import { cpus, tmpdir } from 'node:os'
import { join } from 'node:path'
import { Writable } from 'node:stream'
import { booleanFlag, loadEnvOrExit, positiveInt } from '@repo/config'
import { defineJob, jobEnvelope, jobOptions, openDeadLetters } from '@repo/jobs'
import { createLogger } from '@repo/observability'
import { Queue, Worker } from 'bullmq'
import { Redis } from 'ioredis'
import { z } from 'zod'
import { TEMPLATE_DATABASE } from '../../../packages/testing/src/context.ts'
import { cloneDatabase } from '../../../packages/testing/src/database.ts'
import { createTemplate } from '../../../packages/testing/src/global-setup.ts'
import {
  startEphemeralPostgres,
  startEphemeralRedis,
  startLocalPostgres,
  startOnFreePort,
} from '../../../packages/testing/src/servers/index.ts'
import { createWorker } from '../src/create-worker.ts'
import { definedHandler } from '../src/define-handler.ts'
import { ownerQuery } from '../test/helpers.ts'
import { measureCommitThroughput, measureOutboxLatency, type OutboxMode } from './outbox-latency.ts'

const {
  BENCH_JOBS: JOBS,
  BENCH_CONCURRENCY: CONCURRENCY,
  BENCH_PARTS,
  BENCH_OUTBOX_RATE,
  BENCH_OUTBOX_SECONDS,
  BENCH_OUTBOX_WARMUP_SECONDS,
  BENCH_OUTBOX_ROUNDS,
  BENCH_OUTBOX_MODES,
  BENCH_CPU_PROF,
  BENCH_COMMIT_SECONDS,
  BENCH_COMMIT_CONNECTIONS,
  BENCH_COMMIT_ROUNDS,
  BENCH_DURABLE,
} = loadEnvOrExit(
  z.object({
    BENCH_JOBS: positiveInt(10_000),
    BENCH_CONCURRENCY: positiveInt(10),
    /** Which parts run: `jobs` (throughput), `outbox` (latency), `commits` (the trigger's cost). */
    BENCH_PARTS: z.string().default('jobs,outbox,commits'),
    /** Commits a second, and for how long, in each mode of the outbox latency part. */
    BENCH_OUTBOX_RATE: positiveInt(500),
    BENCH_OUTBOX_SECONDS: positiveInt(10),
    BENCH_OUTBOX_WARMUP_SECONDS: positiveInt(2),
    /** Each round measures every mode; every other round in the reverse order. */
    BENCH_OUTBOX_ROUNDS: positiveInt(1),
    /** The relay's modes: polling, woken, either with `-sequential` (one publish at a time). */
    BENCH_OUTBOX_MODES: z.string().default('polling,woken,woken-sequential'),
    /** A directory: the bench's worker process writes a CPU profile of each mode there. */
    BENCH_CPU_PROF: z.string().optional(),
    BENCH_COMMIT_SECONDS: positiveInt(5),
    BENCH_COMMIT_CONNECTIONS: positiveInt(16),
    BENCH_COMMIT_ROUNDS: positiveInt(3),
    /**
     * 1: the outbox parts on a Postgres that flushes every commit to disk (fsync and
     * synchronous_commit on, data in the OS temp directory), as production's does; else
     * the tests' (no fsync, data in memory).
     */
    BENCH_DURABLE: booleanFlag(false),
  }),
)
const parts = new Set(BENCH_PARTS.split(','))

const benchJob = defineJob({
  name: 'bench.noop',
  version: 1,
  queue: 'bench-real',
  schema: z.object({ n: z.number().int(), note: z.string().max(100) }).strict(),
})

// Logs are formatted and written as in production (JSON, info level), into a sink.
const logger = createLogger({
  service: 'bench',
  level: 'info',
  pretty: false,
  destination: new Writable({ write: (_chunk, _encoding, done) => done() }),
})

async function fill(queue: Queue, data: (n: number) => unknown) {
  const options = jobOptions(benchJob)
  for (let start = 0; start < JOBS; start += 1_000) {
    await queue.addBulk(
      Array.from({ length: Math.min(1_000, JOBS - start) }, (_, i) => ({
        name: benchJob.name,
        data: data(start + i),
        opts: options,
      })),
    )
  }
}

async function drain(worker: Worker) {
  let done = 0
  const started = performance.now()
  await new Promise<void>((resolve, reject) => {
    worker.on('completed', () => {
      if (++done === JOBS) resolve()
    })
    worker.on('failed', (_job, err) => reject(err))
    worker.run().catch(reject)
  })
  const seconds = (performance.now() - started) / 1000
  await worker.close()
  return { seconds, perSecond: JOBS / seconds }
}

const redis = await startEphemeralRedis({ runtime: 'local' })
const connection = new Redis(redis.url, { maxRetriesPerRequest: null })
console.log(
  `\nMachine: ${cpus().length} x ${cpus()[0]?.model}, Node ${process.version}, ${redis.description}`,
)
try {
  if (parts.has('jobs')) await throughput()
  if (parts.has('outbox') || parts.has('commits')) await outbox()
} finally {
  connection.disconnect()
  await redis.stop()
}

async function throughput() {
  const rawQueue = new Queue('bench-raw', { connection })
  const realQueue = new Queue(benchJob.queue, { connection })
  const deadLetters = openDeadLetters(connection)

  await fill(rawQueue, (n) => ({ n }))
  const raw = await drain(
    new Worker('bench-raw', async () => undefined, {
      connection,
      concurrency: CONCURRENCY,
      autorun: false,
    }),
  )

  await fill(realQueue, (n) =>
    jobEnvelope(benchJob, { n, note: 'benchmark' }, { requestId: `req-${n}` }),
  )
  const worker = createWorker({
    queue: benchJob.queue,
    connection,
    concurrency: CONCURRENCY,
    logger,
    deadLetters,
    handlers: {
      [benchJob.name]: definedHandler(benchJob, async (payload, { logger: jobLogger }) => {
        jobLogger.debug({ n: payload.n }, 'noop')
        return undefined
      }),
    },
    autorun: false,
  })
  const real = await drain(worker)

  const ratio = real.perSecond / raw.perSecond
  console.log(`\n${JOBS} jobs each, concurrency ${CONCURRENCY}, queued before the workers start\n`)
  console.log('| what | jobs/s | seconds |')
  console.log('| --- | ---: | ---: |')
  console.log(
    `| raw BullMQ, no-op processor | ${raw.perSecond.toFixed(0)} | ${raw.seconds.toFixed(2)} |`,
  )
  console.log(
    `| defined job through createWorker + definedHandler | ${real.perSecond.toFixed(0)} | ${real.seconds.toFixed(2)} |`,
  )
  console.log(
    `\nreal / raw: ${(ratio * 100).toFixed(0)}% (goal >= 70%): ${ratio >= 0.7 ? 'PASS' : 'MISS'}`,
  )
  await Promise.all([rawQueue.close(), realQueue.close(), deadLetters.close()])
}

/** The outbox parts, on a Postgres of their own (a migrated database, the test logins). */
async function outbox() {
  const postgres = BENCH_DURABLE
    ? await startOnFreePort((port) =>
        startLocalPostgres({
          dataDir: join(tmpdir(), `groundwork-bench-pg-${randomBytes(6).toString('hex')}`),
          port,
          persistent: false,
        }),
      )
    : await startEphemeralPostgres('local')
  try {
    await createTemplate(postgres.url)
    const database = await cloneDatabase(postgres.url, TEMPLATE_DATABASE)
    const [org] = await ownerQuery(
      database.url,
      `INSERT INTO organizations (id, name, updated_at) VALUES (gen_random_uuid(), 'Bench', now()) RETURNING id`,
    )
    const bench = {
      ownerUrl: database.url,
      appUrl: database.appUrl,
      workerUrl: database.workerUrl,
      organizationId: org?.id as string,
      postgresPid: postgres.pid,
      redisPid: redis.pid,
    }
    console.log(
      `\nOutbox: ${postgres.description}, ${BENCH_DURABLE ? 'fsync and synchronous_commit on, data on disk' : 'fsync and synchronous_commit off, data in memory (as the tests)'}`,
    )
    if (parts.has('outbox')) {
      const modes = BENCH_OUTBOX_MODES.split(',').map(
        (mode) => mode.replace('-', ', ') as OutboxMode,
      )
      const order: OutboxMode[] = []
      for (let round = 0; round < BENCH_OUTBOX_ROUNDS; round++)
        order.push(...(round % 2 === 0 ? modes : [...modes].reverse()))
      console.log(
        `\nCommit to handler start, ${BENCH_OUTBOX_RATE} commits/s for ${BENCH_OUTBOX_SECONDS} s each (after ${BENCH_OUTBOX_WARMUP_SECONDS} s not counted)\n`,
      )
      console.log(
        '| relay | commits | p50 ms | p95 ms | p99 ms | max ms | passes/s | messages/pass | claim, publish, mark ms | worker CPU | Postgres CPU | Redis CPU | committer CPU |',
      )
      console.log(
        '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
      )
      for (const mode of order) {
        const r = await measureOutboxLatency({
          database: bench,
          redisUrl: redis.url,
          mode,
          perSecond: BENCH_OUTBOX_RATE,
          seconds: BENCH_OUTBOX_SECONDS,
          warmupSeconds: BENCH_OUTBOX_WARMUP_SECONDS,
          cpuProfileDir: BENCH_CPU_PROF,
        })
        const ms = (value: number) => value.toFixed(1)
        const cpu = (value: number) => `${value.toFixed(0)}%`
        console.log(
          `| ${mode} (listener ${mode.startsWith('woken') ? 'on' : 'off'}) | ${r.commits} | ${ms(r.p50)} | ${ms(r.p95)} | ${ms(r.p99)} | ${ms(r.max)} | ${r.passesPerSecond.toFixed(0)} | ${r.perPass.toFixed(1)} | ${ms(r.claimMs)}, ${ms(r.publishMs)}, ${ms(r.markMs)} | ${cpu(r.workerCpu)} | ${cpu(r.postgresCpu)} | ${cpu(r.redisCpu)} | ${cpu(r.committerCpu)} |`,
        )
      }
    }
    if (parts.has('commits')) {
      console.log(
        `\nCommits/s, ${BENCH_COMMIT_CONNECTIONS} connections in a closed loop for ${BENCH_COMMIT_SECONDS} s each, no relay\n`,
      )
      console.log('| outbox trigger | commits/s |')
      console.log('| --- | ---: |')
      for (let round = 0; round < BENCH_COMMIT_ROUNDS; round++)
        for (const [trigger, listeners] of [
          [false, 0],
          [true, 1],
          [true, 4],
        ] as const) {
          const r = await measureCommitThroughput({
            database: bench,
            connections: BENCH_COMMIT_CONNECTIONS,
            seconds: BENCH_COMMIT_SECONDS,
            trigger,
            listeners,
          })
          console.log(`| ${r.variant} | ${r.commitsPerSecond.toFixed(0)} |`)
        }
    }
  } finally {
    await postgres.stop()
  }
}
