import { createLogger, initSentry, Sentry } from '@repo/observability'
import { startTelemetrySink, type TelemetrySink, useIsolatedServices } from '@repo/testing'
import { Queue, QueueEvents } from 'bullmq'
import { afterAll, beforeAll, expect, it } from 'vitest'
import { createWorker } from '../src/create-worker.ts'

// A failed job reaches Sentry for real: the SDK delivers to a loopback sink.
const services = useIsolatedServices()
let sink: TelemetrySink

beforeAll(async () => {
  sink = await startTelemetrySink()
  initSentry({
    dsn: sink.sentryDsn,
    environment: 'test',
    release: 'test',
    service: 'worker',
    tracesSampleRate: 0,
  })
})
afterAll(async () => {
  await Sentry.close(2_000)
  await sink?.close()
})

it('reports a failed job to Sentry with its queue and job name', async () => {
  const { url } = services().redis
  const logger = createLogger({ service: 'worker-test', level: 'silent', pretty: false })
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
    const job = await queue.add('report.render', {}, { attempts: 1 })
    await expect(job.waitUntilFinished(events, 10_000)).rejects.toThrow(
      'renderer crashed on page 7',
    )
    const delivery = await sink.waitFor((req) => req.body.includes('renderer crashed on page 7'))
    expect(delivery.body).toContain('"queue":"reports"')
    expect(delivery.body).toContain('"job":"report.render"')
  } finally {
    await worker.close()
    await events.close()
    await queue.close()
  }
})
