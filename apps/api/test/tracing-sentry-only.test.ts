import { initSentry, Sentry } from '@repo/observability'
import { stopTracing } from '@repo/observability/tracing'
import { startServiceTracing } from '@repo/observability/tracing-node'
import {
  decodeOtlpJson,
  startTelemetrySink,
  type TelemetrySink,
  useIsolatedServices,
} from '@repo/testing'
import type { FastifyInstance } from 'fastify'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildTestServer } from './helpers.ts'

// Sentry alone, no collector (ADR 032): without a traces sample rate nothing of
// OpenTelemetry starts; with one, Sentry's tracing is OpenTelemetry's, its spans delivered
// to Sentry's OTLP endpoint and its errors on the same trace ids. (Own process per file.)
const services = useIsolatedServices()
let sink: TelemetrySink
let server: FastifyInstance
const OTLP_PATH = '/api/1/integration/otlp/v1/traces/'

beforeAll(async () => {
  sink = await startTelemetrySink()
})
afterAll(async () => {
  await server?.close()
  await Promise.all([Sentry.close(2_000), stopTracing()])
  await sink?.close()
})

describe('Sentry without a collector', () => {
  it('starts no tracing while Sentry tracing is off', async () => {
    const env = { NODE_ENV: 'test', SENTRY_DSN: sink.sentryDsn }
    expect(await startServiceTracing('api', { ...env, SENTRY_TRACES_SAMPLE_RATE: '0' })).toBe(false)
  })

  it('traces through OpenTelemetry to Sentry, errors on the same trace id', async () => {
    const started = await startServiceTracing('api', {
      NODE_ENV: 'test',
      SENTRY_DSN: sink.sentryDsn,
      SENTRY_TRACES_SAMPLE_RATE: '1',
      OTEL_BSP_SCHEDULE_DELAY: '100',
      // A layer turned off by its OpenTelemetry name: Prisma's spans (Fastify's still made).
      OTEL_NODE_DISABLED_INSTRUMENTATIONS: 'prisma',
    })
    expect(started).toBe(true)
    initSentry({
      dsn: sink.sentryDsn,
      environment: 'test',
      release: 'test',
      service: 'api',
    })
    const { database, redis } = services()
    server = await buildTestServer(
      { DATABASE_URL: database.appUrl, REDIS_URL: redis.url },
      (app) => {
        app.get('/test/alone-crash', { config: { access: 'public' } }, async () => {
          await app.db.user.findFirst({ where: { email: 'nobody-otel@example.com' } })
          throw new Error('crash with Sentry alone')
        })
      },
    )
    expect((await server.inject({ url: '/test/alone-crash' })).statusCode).toBe(500)

    const event = await sink.waitFor(
      (req) =>
        req.path.startsWith('/api/1/envelope/') && req.body.includes('crash with Sentry alone'),
    )
    const traceId = /"trace_id":"([0-9a-f]{32})"/.exec(event.body)?.[1]
    await expect
      .poll(() =>
        sink.requests
          .filter((req) => req.path === OTLP_PATH)
          .flatMap((req) => decodeOtlpJson(req.body))
          .some(
            (span) =>
              span.traceId === traceId && span.attributes['http.route'] === '/test/alone-crash',
          ),
      )
      .toBe(true)

    // Prisma's lookup in the handler made no span, inside a trace that has the handler's:
    // that layer alone is off.
    const spans = sink.requests
      .filter((req) => req.path === OTLP_PATH)
      .flatMap((req) => decodeOtlpJson(req.body))
      .filter((span) => span.traceId === traceId)
    expect(spans.some((span) => span.name.startsWith('handler'))).toBe(true)
    expect(spans.filter((span) => span.scope === 'prisma')).toEqual([])
  })
})
