// pnpm bench:jobs — 10,000 jobs through the real worker pipeline (a defined job: payload
// validated again, per-job logger with context, timeout race, dead-letter wiring, the
// completion log line) beside raw BullMQ no-op jobs, same Redis, same run, concurrency 10.

import { cpus } from 'node:os'
import { Writable } from 'node:stream'
import { loadEnvOrExit, positiveInt } from '@repo/config'
import { defineJob, jobEnvelope, jobOptions, openDeadLetters } from '@repo/jobs'
import { createLogger } from '@repo/observability'
import { Queue, Worker } from 'bullmq'
import { Redis } from 'ioredis'
import { z } from 'zod'
import { startEphemeralRedis } from '../../../packages/testing/src/servers/index.ts'
import { createWorker } from '../src/create-worker.ts'
import { definedHandler } from '../src/define-handler.ts'

const { BENCH_JOBS: JOBS, BENCH_CONCURRENCY: CONCURRENCY } = loadEnvOrExit(
  z.object({ BENCH_JOBS: positiveInt(10_000), BENCH_CONCURRENCY: positiveInt(10) }),
)

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
try {
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
  console.log(
    `\nMachine: ${cpus().length} x ${cpus()[0]?.model}, Node ${process.version}, ${redis.description}`,
  )
  console.log(`${JOBS} jobs each, concurrency ${CONCURRENCY}, queued before the workers start\n`)
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
} finally {
  connection.disconnect()
  await redis.stop()
}
