import { initSentry, Sentry } from '@repo/observability'
import { isTracingStarted, stopTracing } from '@repo/observability/tracing'
import { startServiceTracing } from '@repo/observability/tracing-node'
import {
  type OtlpReceiver,
  startOtlpReceiver,
  startTelemetrySink,
  type TelemetrySink,
  useIsolatedServices,
} from '@repo/testing'
import type { FastifyInstance } from 'fastify'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildTestServer } from './helpers.ts'

// Sentry on OpenTelemetry (ADR 032): with a DSN and an OTLP endpoint, tracing starts
// first and Sentry adds no tracing of its own. An error's event carries the trace id of
// the request's OpenTelemetry span, and Sentry's spans are those same spans, delivered to
// its OTLP endpoint. (Each test file runs in its own process: this set-up stays here.)
const services = useIsolatedServices()
let sink: TelemetrySink
let receiver: OtlpReceiver
let server: FastifyInstance

beforeAll(async () => {
  ;[sink, receiver] = await Promise.all([startTelemetrySink(), startOtlpReceiver()])
  const started = await startServiceTracing('api', {
    NODE_ENV: 'test',
    OTEL_EXPORTER_OTLP_ENDPOINT: receiver.endpoint,
    SENTRY_DSN: sink.sentryDsn,
    SENTRY_TRACES_SAMPLE_RATE: '1',
    OTEL_BSP_SCHEDULE_DELAY: '100',
  })
  expect(started).toBe(true)
  // As a deployment sets it: Sentry also reads it from the environment by itself.
  process.env.SENTRY_TRACES_SAMPLE_RATE = '1'
  initSentry({
    dsn: sink.sentryDsn,
    environment: 'test',
    release: 'test',
    service: 'api',
  })
  const { database, redis } = services()
  server = await buildTestServer({ DATABASE_URL: database.appUrl, REDIS_URL: redis.url }, (app) => {
    app.get('/test/traced-crash', { config: { access: 'public' } }, async (request) => {
      // A marker per call: Sentry drops an event identical to the one before it.
      const { marker = '' } = request.query as { marker?: string }
      throw new Error(`traced crash ${marker}`)
    })
    app.get('/test/traced-conflict', { config: { access: 'public' } }, async () => {
      throw Object.assign(new Error('traced conflict'), { statusCode: 409 })
    })
  })
})
afterAll(async () => {
  await server?.close()
  await Promise.all([Sentry.close(2_000), stopTracing()])
  await Promise.all([sink?.close(), receiver?.close()])
})

/** The trace id a Sentry envelope's event names (contexts.trace). */
function traceIdOf(envelope: string): string | undefined {
  for (const line of envelope.split('\n')) {
    try {
      const item = JSON.parse(line) as { contexts?: { trace?: { trace_id?: string } } }
      if (item.contexts?.trace?.trace_id) return item.contexts.trace.trace_id
    } catch {
      // an attachment or a header line
    }
  }
  return undefined
}

describe('Sentry with OpenTelemetry', () => {
  it('reports an error under the trace id of the request span the collector receives', async () => {
    expect(isTracingStarted()).toBe(true)
    const res = await server.inject({ url: '/test/traced-crash' })
    expect(res.statusCode).toBe(500)

    const event = await sink.waitFor(
      (req) => req.path.startsWith('/api/1/envelope/') && req.body.includes('traced crash'),
    )
    const request = await receiver.waitForSpan(
      (span) => span.service === 'api' && span.attributes['http.route'] === '/test/traced-crash',
    )

    expect(traceIdOf(event.body)).toBe(request.traceId)
  })

  it('still leaves 4xx answers out of Sentry', async () => {
    expect((await server.inject({ url: '/test/traced-conflict' })).statusCode).toBe(409)
    // Reported after it: once this one is in, the conflict would have been too.
    await server.inject({ url: '/test/traced-crash?marker=after-conflict' })
    const events = () => sink.requests.filter((req) => req.path.startsWith('/api/1/envelope/'))
    await expect
      .poll(() => events().some((req) => req.body.includes('traced crash after-conflict')))
      .toBe(true)
    // The exception's value, not the source lines around the crash that quote this file.
    expect(events().some((req) => req.body.includes('"value":"traced conflict"'))).toBe(false)
  })

  it("installs none of Sentry's own tracing integrations: OpenTelemetry's make those spans", () => {
    const client = Sentry.getClient()
    // Error capture is installed; nothing that follows requests, queries or commands is.
    expect(client?.getIntegrationByName('OnUncaughtException')).toBeDefined()
    for (const name of ['Http', 'NodeFetch', 'Fastify', 'Postgres', 'Prisma', 'Redis'])
      expect(client?.getIntegrationByName(name), name).toBeUndefined()
  })

  it("sends Sentry the OpenTelemetry spans over OTLP, with Sentry's own tracing off", async () => {
    expect((await server.inject({ url: '/v1/auth/me' })).statusCode).toBe(401)
    const delivered = await sink.waitFor(
      (req) =>
        req.path === '/api/1/integration/otlp/v1/traces/' && req.body.includes('@fastify/otel'),
    )
    expect(delivered.headers['x-sentry-auth']).toContain('sentry_key=public')
    // No transaction of Sentry's own: every span it gets came through OpenTelemetry.
    expect(
      sink.requests.some(
        (req) => req.path.startsWith('/api/1/envelope/') && req.body.includes('"transaction"'),
      ),
    ).toBe(false)
  })
})
