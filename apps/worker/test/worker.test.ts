import { createLogger } from '@repo/observability'
import { useIsolatedServices } from '@repo/testing'
import { type Job, Queue, QueueEvents } from 'bullmq'
import { Redis } from 'ioredis'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createWorker } from '../src/create-worker.ts'
import { DEFAULT_QUEUE, defaultHandlers } from '../src/handlers.ts'

const services = useIsolatedServices()
const logger = createLogger({ service: 'worker-test', level: 'silent', pretty: false })
let connection: Redis
let queue: Queue
let events: QueueEvents

beforeAll(async () => {
  const { url } = services().redis
  connection = new Redis(url, { maxRetriesPerRequest: null })
  queue = new Queue(DEFAULT_QUEUE, { connection })
  events = new QueueEvents(DEFAULT_QUEUE, { connection: { url } })
  await events.waitUntilReady()
})
afterAll(async () => {
  await events?.close()
  await queue?.close()
  connection?.disconnect()
})

describe('worker', () => {
  it('processes system.ping end to end through real Redis', async () => {
    const worker = createWorker({
      queue: DEFAULT_QUEUE,
      connection,
      handlers: defaultHandlers,
      concurrency: 2,
      logger,
    })
    try {
      const job = await queue.add('system.ping', {})
      const result = await job.waitUntilFinished(events, 10_000)
      expect(result).toMatchObject({ pong: true, jobId: job.id })
    } finally {
      await worker.close()
    }
  })

  it('fails a job with no handler at once, without retries', async () => {
    const worker = createWorker({
      queue: DEFAULT_QUEUE,
      connection,
      handlers: defaultHandlers,
      concurrency: 1,
      logger,
    })
    try {
      const job = await queue.add(
        'nobody.handles.this',
        {},
        { attempts: 5, backoff: { type: 'fixed', delay: 10 } },
      )
      await expect(job.waitUntilFinished(events, 10_000)).rejects.toThrow(
        'no handler for job "nobody.handles.this"',
      )
      const failed = (await queue.getJob(job.id as string)) as Job
      expect(failed.attemptsMade).toBe(1)
      expect(await failed.getState()).toBe('failed')
    } finally {
      await worker.close()
    }
  })

  it('lets a running job finish when closed (graceful shutdown)', async () => {
    let release: () => void = () => {}
    const gate = new Promise<void>((resolve) => {
      release = resolve
    })
    let started: () => void = () => {}
    const running = new Promise<void>((resolve) => {
      started = resolve
    })
    const worker = createWorker({
      queue: DEFAULT_QUEUE,
      connection,
      concurrency: 1,
      logger,
      handlers: {
        'test.slow': async () => {
          started()
          await gate
          return 'finished'
        },
      },
    })
    const job = await queue.add('test.slow', {})
    await running
    const order: string[] = []
    const closing = worker.close().then(() => order.push('closed'))
    // close() must wait for the active job rather than abandon it: by the time a worker
    // with nothing to wait for has closed, this one is still waiting, until the job ends.
    const idle = createWorker({ queue: 'idle', connection, concurrency: 1, logger, handlers: {} })
    await idle.waitUntilReady()
    await idle.close()
    order.push('released')
    release()
    await closing
    expect(order).toEqual(['released', 'closed'])
    expect(await job.waitUntilFinished(events, 5_000)).toBe('finished')
    expect(await (await queue.getJob(job.id as string))?.getState()).toBe('completed')
  })
})
