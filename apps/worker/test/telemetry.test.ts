import { defineJob, enqueueJob, openDeadLetters } from '@repo/jobs'
import { createLogger, initSentry, Sentry } from '@repo/observability'
import {
  sentryItems,
  startTelemetrySink,
  type TelemetrySink,
  useIsolatedServices,
} from '@repo/testing'
import { type Job, Queue, QueueEvents } from 'bullmq'
import { Redis } from 'ioredis'
import { afterAll, beforeAll, expect, it } from 'vitest'
import { z } from 'zod'
import { createWorker } from '../src/create-worker.ts'
import { definedHandler } from '../src/define-handler.ts'

// Failed jobs reach Sentry for real (the SDK delivers to a loopback sink): a job that
// becomes a dead letter is reported once, however many attempts it took, with its queue,
// its name and the organization and request it ran for.
const services = useIsolatedServices()
let sink: TelemetrySink
const logger = createLogger({ service: 'worker-test', level: 'silent', pretty: false })

beforeAll(async () => {
  sink = await startTelemetrySink()
  initSentry({
    dsn: sink.sentryDsn,
    environment: 'test',
    release: '2.0.0+feedbee',
    service: 'worker',
    // Every report counts: none may hide behind Sentry's dropping of repeated events.
    dedupe: false,
  })
})
afterAll(async () => {
  await Sentry.close(2_000)
  await sink?.close()
})

/** The error events received so far whose exception mentions `marker`. */
const eventsWith = (marker: string) =>
  sentryItems(sink.requests)
    .map((item) => item.payload as Record<string, unknown>)
    .filter((event) => JSON.stringify(event.exception ?? '').includes(marker))

it('reports a job that becomes a dead letter once, after all its attempts, with its context', async () => {
  const { url } = services().redis
  const connection = new Redis(url, { maxRetriesPerRequest: null })
  const QUEUE = 'billing'
  const invoice = defineJob({
    name: 'billing.invoice',
    version: 1,
    queue: QUEUE,
    schema: z.object({ marker: z.string() }).strict(),
    attempts: 3,
    backoff: { type: 'exponential', delay: 10, jitter: 0 },
  })
  const attempts = new Map<string, number>()
  const deadLetters = openDeadLetters(connection)
  const worker = createWorker({
    queue: QUEUE,
    connection,
    concurrency: 1,
    logger,
    deadLetters,
    handlers: {
      [invoice.name]: definedHandler(invoice, async ({ marker }) => {
        attempts.set(marker, (attempts.get(marker) ?? 0) + 1)
        throw new Error(`ledger unavailable ${marker}`)
      }),
    },
  })
  const queue = new Queue(QUEUE, { connection })
  const events = new QueueEvents(QUEUE, { connection: { url } })
  await events.waitUntilReady()
  const organizationId = '0192f0c8-2b4e-7a10-8c3d-5e6f7a8b9c0d'
  try {
    const job = (await enqueueJob(
      queue,
      invoice,
      { marker: 'dl-once' },
      {
        context: { organizationId, requestId: 'req-job-1' },
      },
    )) as Job
    await expect(job.waitUntilFinished(events, 15_000)).rejects.toThrow('ledger unavailable')
    expect(attempts.get('dl-once')).toBe(3)
    await expect.poll(() => eventsWith('dl-once').length, { timeout: 10_000 }).toBe(1)

    // A control after it: once its report has arrived, a late duplicate would have too.
    const control = (await enqueueJob(queue, invoice, { marker: 'dl-control' }, {})) as Job
    await expect(control.waitUntilFinished(events, 15_000)).rejects.toThrow()
    await expect.poll(() => eventsWith('dl-control').length, { timeout: 10_000 }).toBe(1)
    await Sentry.flush(2_000)
    expect(eventsWith('dl-once')).toHaveLength(1)

    const event = eventsWith('dl-once')[0] as Record<string, Record<string, unknown>>
    expect(event.tags).toMatchObject({
      queue: QUEUE,
      job: 'billing.invoice',
      organization_id: organizationId,
      request_id: 'req-job-1',
      service: 'worker',
    })
    expect(event.extra).toMatchObject({ deadLetterId: `${QUEUE}-${job.id}` })
    expect(event.release).toBe('2.0.0+feedbee')
  } finally {
    await worker.close()
    await events.close()
    await queue.close()
    await deadLetters.close()
    connection.disconnect()
  }
})

it('without dead letters, reports a job that failed for good once, with its queue and name', async () => {
  const { url } = services().redis
  const worker = createWorker({
    queue: 'reports',
    connection: { url },
    concurrency: 1,
    logger,
    handlers: {
      'report.render': async () => {
        throw new Error('renderer crashed on page 7')
      },
    },
  })
  const queue = new Queue('reports', { connection: { url } })
  const events = new QueueEvents('reports', { connection: { url } })
  try {
    const job = await queue.add('report.render', {}, { attempts: 2 })
    await expect(job.waitUntilFinished(events, 10_000)).rejects.toThrow(
      'renderer crashed on page 7',
    )
    await expect.poll(() => eventsWith('renderer crashed').length, { timeout: 10_000 }).toBe(1)
    await Sentry.flush(2_000)
    expect(eventsWith('renderer crashed')).toHaveLength(1)
    const event = eventsWith('renderer crashed')[0] as Record<string, Record<string, unknown>>
    expect(event.tags).toMatchObject({ queue: 'reports', job: 'report.render' })
  } finally {
    await worker.close()
    await events.close()
    await queue.close()
  }
})
