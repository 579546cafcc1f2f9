import { getDeadLetter, openDeadLetters } from '@repo/jobs'
import { createLogger, type MetricsServer, startMetricsServer } from '@repo/observability'
import { scrapeMetrics, useIsolatedServices } from '@repo/testing'
import { Queue, type Worker } from 'bullmq'
import { Redis } from 'ioredis'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createWorker } from '../src/create-worker.ts'
import { createWorkerMetrics } from '../src/metrics.ts'

// A job whose worker dies running it, again and again (a poison job that crashes or
// exhausts the process), fails outside any processor. It must still become a dead letter.
const services = useIsolatedServices()
const QUEUE = 'stall-test'
const logger = createLogger({ service: 'worker-test', level: 'silent', pretty: false })
const metrics = createWorkerMetrics({ version: '1', commit: 'c', logger })
let connection: Redis
let queue: Queue
let metricsServer: MetricsServer

beforeAll(async () => {
  connection = new Redis(services().redis.url, { maxRetriesPerRequest: null })
  queue = new Queue(QUEUE, { connection })
  metricsServer = await startMetricsServer({
    metrics: metrics.metrics,
    host: '127.0.0.1',
    port: 0,
    logger,
  })
})
afterAll(async () => {
  await queue?.close()
  await metricsServer?.close()
  connection?.disconnect()
})

const start = (deadLetters = openDeadLetters(connection)) =>
  createWorker({
    queue: QUEUE,
    connection,
    concurrency: 1,
    logger,
    deadLetters,
    metrics,
    lockDurationMs: 400,
    stalledIntervalMs: 200,
    // Never finishes: each worker holding it is "killed" (closed by force) in turn.
    handlers: { 'test.poison': () => new Promise(() => {}) },
  })

describe('a job that stalls too often', () => {
  it('is filed as a dead letter although no processor ever saw it fail', async () => {
    const job = await queue.add('test.poison', { v: 1 }, { attempts: 5 })
    let worker: Worker = start()
    for (let round = 1; round <= 2; round++) {
      // Taken by this round's worker (the next one takes it back once it has stalled).
      await expect
        .poll(async () => (await queue.getJob(job.id as string))?.attemptsStarted, {
          timeout: 10_000,
        })
        .toBe(round)
      await worker.close(true) // its lock is no longer renewed: the job stalls
      worker = start()
    }
    const deadLetters = openDeadLetters(connection)
    await expect
      .poll(async () => getDeadLetter(deadLetters, `${QUEUE}-${job.id}`), { timeout: 10_000 })
      .toMatchObject({ error: expect.stringMatching(/stalled/) })
    expect(await (await queue.getJob(job.id as string))?.getState()).toBe('failed')
    // Counted once, as the dead letter it became, though no processor saw it end.
    const outcomes = async () =>
      (await scrapeMetrics(`http://127.0.0.1:${metricsServer.port}/metrics`)).samples
        .filter((s) => s.name === 'job_duration_seconds_count' && s.labels.queue === QUEUE)
        .map((s) => `${s.labels.job_name} ${s.labels.outcome} ${s.value}`)
    await expect.poll(outcomes, { timeout: 10_000 }).toEqual(['test.poison dead_letter 1'])
    await worker.close(true)
    await deadLetters.close()
  })
})
