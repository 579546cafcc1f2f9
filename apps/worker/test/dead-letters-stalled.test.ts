import { getDeadLetter, openDeadLetters } from '@repo/jobs'
import { createLogger } from '@repo/observability'
import { useIsolatedServices } from '@repo/testing'
import { Queue, type Worker } from 'bullmq'
import { Redis } from 'ioredis'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createWorker } from '../src/create-worker.ts'

// A job whose worker dies running it, again and again (a poison job that crashes or
// exhausts the process), fails outside any processor. It must still become a dead letter.
const services = useIsolatedServices()
const QUEUE = 'stall-test'
const logger = createLogger({ service: 'worker-test', level: 'silent', pretty: false })
let connection: Redis
let queue: Queue

beforeAll(() => {
  connection = new Redis(services().redis.url, { maxRetriesPerRequest: null })
  queue = new Queue(QUEUE, { connection })
})
afterAll(async () => {
  await queue?.close()
  connection?.disconnect()
})

const start = (deadLetters = openDeadLetters(connection)) =>
  createWorker({
    queue: QUEUE,
    connection,
    concurrency: 1,
    logger,
    deadLetters,
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
    await worker.close(true)
    await deadLetters.close()
  })
})
