import { defineJob, enqueueJob } from '@repo/jobs'
import { useIsolatedServices } from '@repo/testing'
import { type Job, Queue, QueueEvents } from 'bullmq'
import { Redis } from 'ioredis'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { z } from 'zod'
import { createWorker } from '../src/create-worker.ts'
import { definedHandler } from '../src/define-handler.ts'
import { capturingLogger } from './helpers.ts'

// Defined jobs through a real queue and worker: validation on both sides, a timeout per
// attempt, the request's context in the worker's logs.
const services = useIsolatedServices()
const { logger, lines } = capturingLogger()
let connection: Redis
let queue: Queue
let events: QueueEvents
const QUEUE = 'defined'

const greet = defineJob({
  name: 'test.greet',
  version: 1,
  queue: QUEUE,
  schema: z.object({ name: z.string().min(1) }).strict(),
  attempts: 4,
  backoff: { type: 'exponential', delay: 10, jitter: 0.5 },
  timeoutMs: 300,
})

beforeAll(async () => {
  const { url } = services().redis
  connection = new Redis(url, { maxRetriesPerRequest: null })
  queue = new Queue(QUEUE, { connection })
  events = new QueueEvents(QUEUE, { connection: { url } })
  await events.waitUntilReady()
})
afterAll(async () => {
  await events?.close()
  await queue?.close()
  connection?.disconnect()
})

function startWorker(handle: Parameters<typeof definedHandler<typeof greet.schema>>[1]) {
  return createWorker({
    queue: QUEUE,
    connection,
    concurrency: 2,
    logger,
    handlers: { [greet.name]: definedHandler(greet, handle) },
  })
}

describe('defined jobs', () => {
  it('run with their validated payload, and log with the context of the request', async () => {
    const worker = startWorker(async (payload, { logger: jobLogger }) => {
      jobLogger.info('greeting')
      return `hello ${payload.name}`
    })
    try {
      const organizationId = crypto.randomUUID()
      const job = (await enqueueJob(
        queue,
        greet,
        { name: 'Ada' },
        {
          context: { organizationId, requestId: 'req-42' },
        },
      )) as Job
      expect(await job.waitUntilFinished(events, 10_000)).toBe('hello Ada')
      expect(lines).toContainEqual(
        expect.objectContaining({
          msg: 'greeting',
          organizationId,
          requestId: 'req-42',
          jobId: job.id,
        }),
      )
    } finally {
      await worker.close()
    }
  })

  it('fail an invalid payload at once, without using their retries', async () => {
    let ran = false
    const worker = startWorker(async () => {
      ran = true
    })
    try {
      // As an older producer, or a hand-made job, might: straight onto the queue.
      const job = await queue.add(
        greet.name,
        { v: 1, payload: { name: '' }, context: {} },
        {
          attempts: 4,
        },
      )
      await expect(job.waitUntilFinished(events, 10_000)).rejects.toThrow(/invalid job data/)
      const failed = (await queue.getJob(job.id as string)) as Job
      expect(failed.attemptsMade).toBe(1)
      const stale = await queue.add(greet.name, { v: 0, payload: { name: 'Old' }, context: {} })
      await expect(stale.waitUntilFinished(events, 10_000)).rejects.toThrow(/payload version 0/)
      expect(ran).toBe(false)
    } finally {
      await worker.close()
    }
  })

  it('time out an attempt, abort its work, and retry it with backoff until attempts run out', async () => {
    let attempts = 0
    let aborted = 0
    const worker = startWorker(async (_payload, { signal }) => {
      attempts++
      signal.addEventListener('abort', () => aborted++)
      // Works until told to stop: only the timeout ends an attempt.
      await new Promise((resolve) => signal.addEventListener('abort', resolve))
    })
    try {
      const job = (await enqueueJob(queue, greet, { name: 'Slow' })) as Job
      await expect(job.waitUntilFinished(events, 15_000)).rejects.toThrow(/timed out after 300 ms/)
      expect(attempts).toBe(4)
      expect(aborted).toBe(4)
      const failed = (await queue.getJob(job.id as string)) as Job
      expect(failed.attemptsMade).toBe(4)
    } finally {
      await worker.close(true)
    }
  })
})
