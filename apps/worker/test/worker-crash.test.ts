import { useIsolatedServices } from '@repo/testing'
import { Queue, QueueEvents } from 'bullmq'
import { describe, expect, it } from 'vitest'
import { DEFAULT_QUEUE } from '../src/handlers.ts'
import { startWorkerProcess } from './helpers.ts'

// A file of its own: BullMQ throttles stalled-job checks per queue with a key that lives
// for the stalled interval, so workers with other timings must not share this Redis.
const services = useIsolatedServices()

describe('a worker killed with SIGKILL', () => {
  it('has its running job picked up by another worker once the lock lapses', {
    timeout: 90_000,
  }, async () => {
    const { url } = services().redis
    const start = () =>
      startWorkerProcess({
        NODE_ENV: 'test',
        LOG_LEVEL: 'info',
        REDIS_URL: url,
        DATABASE_URL: services().database.workerUrl,
        WORKER_LOCK_DURATION_MS: '1000',
        WORKER_STALLED_INTERVAL_MS: '500',
      })
    const queue = new Queue(DEFAULT_QUEUE, { connection: { url } })
    const events = new QueueEvents(DEFAULT_QUEUE, { connection: { url } })
    const first = start()
    let second: ReturnType<typeof start> | undefined
    try {
      const job = await queue.add('system.ping', { workMs: 3_000 })
      await expect
        .poll(
          async () => (await job.isActive()) || (await queue.getJob(job.id as string))?.processedOn,
          { timeout: 10_000 },
        )
        .toBeTruthy()
      first.child.kill('SIGKILL')
      await first.exited
      // The job is still "active" in Redis, held by a worker that no longer exists.
      expect(await (await queue.getJob(job.id as string))?.getState()).toBe('active')
      second = start()
      expect(await job.waitUntilFinished(events, 20_000)).toMatchObject({ pong: true })
      const done = await queue.getJob(job.id as string)
      expect(done?.attemptsStarted).toBeGreaterThanOrEqual(2)
    } finally {
      if (first.child.exitCode === null) first.child.kill('SIGKILL')
      if (second) {
        second.child.kill('SIGTERM')
        await second.exited
      }
      await events.close()
      await queue.close()
    }
  })
})
