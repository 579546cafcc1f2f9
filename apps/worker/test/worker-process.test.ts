import { startTelemetrySink, useIsolatedServices } from '@repo/testing'
import { Queue, QueueEvents } from 'bullmq'
import { describe, expect, it } from 'vitest'
import { DEFAULT_QUEUE } from '../src/handlers.ts'
import { startWorkerProcess } from './helpers.ts'

const services = useIsolatedServices()

describe('worker process', () => {
  /** The worker's real process on this file's services, with a producer; all stopped after `work`. */
  async function withWorkerProcess(
    work: (
      worker: ReturnType<typeof startWorkerProcess>,
      queue: Queue,
      events: QueueEvents,
    ) => Promise<void>,
  ) {
    const { url } = services().redis
    const worker = startWorkerProcess({
      NODE_ENV: 'test',
      LOG_LEVEL: 'info',
      REDIS_URL: url,
      DATABASE_URL: services().database.workerUrl,
    })
    const queue = new Queue(DEFAULT_QUEUE, { connection: { url } })
    const events = new QueueEvents(DEFAULT_QUEUE, { connection: { url } })
    try {
      await work(worker, queue, events)
    } finally {
      if (worker.child.exitCode === null) worker.child.kill('SIGKILL')
      await events.close()
      await queue.close()
    }
  }

  it('consumes jobs, then on SIGTERM finishes and exits 0', () =>
    withWorkerProcess(async ({ child, exited, output }, queue, events) => {
      const job = await queue.add('system.ping', {})
      expect(await job.waitUntilFinished(events, 15_000)).toMatchObject({ pong: true })
      // Its outbox listener proved it hears commits (ADR 038), and stops with it.
      await expect.poll(output, { timeout: 15_000 }).toContain('outbox listener hears commits')
      child.kill('SIGTERM')
      expect(await exited).toBe(0)
      expect(output()).toContain('"msg":"worker stopped"')
    }))

  it('on SIGTERM mid-job: finishes the running job first, then exits 0', () =>
    withWorkerProcess(async ({ child, exited, output }, queue, events) => {
      // A job that holds its slot for 1.5 s: the signal arrives while it runs.
      const job = await queue.add('system.ping', { workMs: 1_500 })
      await expect
        .poll(async () => (await queue.getJob(job.id as string))?.processedOn, {
          timeout: 15_000,
          interval: 20,
        })
        .toBeDefined()
      const signalledAt = Date.now()
      child.kill('SIGTERM')
      expect(await job.waitUntilFinished(events, 15_000)).toMatchObject({ pong: true })
      expect(await exited).toBe(0)
      const finished = await queue.getJob(job.id as string)
      expect(finished?.finishedOn).toBeGreaterThan(signalledAt)
      expect(output()).toContain('"msg":"worker stopped"')
    }))

  it('exits 1 naming the missing variable when REDIS_URL is absent', async () => {
    const worker = startWorkerProcess({ NODE_ENV: 'test' })
    expect(await worker.exited).toBe(1)
    expect(worker.output()).toContain('REDIS_URL: is required')
  })

  it("refuses to run on the API's database login, which cannot publish the outbox", async () => {
    const worker = startWorkerProcess({
      NODE_ENV: 'test',
      REDIS_URL: services().redis.url,
      DATABASE_URL: services().database.appUrl,
    })
    expect(await worker.exited).toBe(1)
    expect(worker.output()).toContain('is not a member of the groundwork_worker role')
    expect(worker.output()).toContain('Set WORKER_DATABASE_URL to the worker login')
  })

  it('on an uncaught exception: finishes the running job, reports the error to Sentry, exits 1', async () => {
    const { url } = services().redis
    const sink = await startTelemetrySink()
    const { child, exited, output } = startWorkerProcess(
      {
        NODE_ENV: 'test',
        LOG_LEVEL: 'info',
        REDIS_URL: url,
        DATABASE_URL: services().database.workerUrl,
        SENTRY_DSN: sink.sentryDsn,
      },
      ['--import', './test/fixtures/crash-on-sigwinch.mjs'],
    )
    const queue = new Queue(DEFAULT_QUEUE, { connection: { url } })
    const events = new QueueEvents(DEFAULT_QUEUE, { connection: { url } })
    try {
      const job = await queue.add('system.ping', { workMs: 1_500 })
      await expect.poll(() => job.getState(), { timeout: 15_000 }).toBe('active')
      child.kill('SIGWINCH')
      // The job running when the error struck is finished, not abandoned to stall.
      expect(await job.waitUntilFinished(events, 15_000)).toMatchObject({ pong: true })
      expect(await exited).toBe(1)
      expect(output()).toContain('shutting down after a fatal error')
      expect(output()).toContain('"msg":"worker stopped"')
      // Sentry was flushed before the exit: the error reached it.
      await sink.waitFor((req) => req.body.includes('fixture: an exception nothing caught'))
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL')
      await events.close()
      await queue.close()
      await sink.close()
    }
  })
})
