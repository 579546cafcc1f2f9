import { context, SpanKind, trace } from '@opentelemetry/api'
import type { HttpInstrumentation } from '@opentelemetry/instrumentation-http'
import { IORedisInstrumentation } from '@opentelemetry/instrumentation-ioredis'
import { InMemorySpanExporter, SimpleSpanProcessor, TracerProvider } from '@opentelemetry/sdk-trace'
import { tracingEnv } from '@repo/config'
import { afterEach, describe, expect, it } from 'vitest'
import { nodeInstrumentations } from './node-instrumentations.ts'
import { RedactingSpanExporter } from './span-redaction.ts'
import type { TracingSettings } from './tracing.ts'
import { samplerFor, samplerFromEnv } from './tracing-sdk.ts'

// What leaves a process as a span (ADR 032, "Span attributes"): no query string, where
// single-use tokens travel, and no email address, whatever an instrumentation recorded.

const settings = (overrides: Partial<TracingSettings>) =>
  ({ SENTRY_TRACES_SAMPLE_RATE: 0, ...overrides }) as TracingSettings

function tracerWith(
  sampler = samplerFor(settings({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://x' }), {}),
) {
  const exported = new InMemorySpanExporter()
  const provider = new TracerProvider({
    sampler,
    spanProcessors: [new SimpleSpanProcessor({ exporter: new RedactingSpanExporter(exported) })],
  })
  return { tracer: provider.getTracer('test'), exported, provider }
}

let provider: TracerProvider | undefined
afterEach(async () => {
  await provider?.shutdown()
  provider = undefined
})

describe('exported spans', () => {
  it("carry a tenant transaction's BEGIN without its settings' values", () => {
    const setup = tracerWith()
    provider = setup.provider
    // As the pg instrumentation records the BEGIN that carries the settings (ADR 037).
    const statement = `BEGIN; SELECT set_config('app.organization_id', 'ORGVALUE', true), set_config('app.user_id', 'USER''VALUE', true), set_config('app.secret_hash',  E'HASH\\\\VALUE', true)`
    for (const key of ['db.statement', 'db.query.text']) {
      setup.tracer.startSpan('BEGIN', { attributes: { [key]: statement } }).end()
    }
    const sent = setup.exported.getFinishedSpans()
    expect(sent).toHaveLength(2)
    for (const span of sent) {
      const text = Object.values(span.attributes).join(' ')
      expect(text).not.toMatch(/ORGVALUE|USER|HASH/)
      expect(text).toContain(
        "BEGIN; SELECT set_config('app.organization_id', '…', true), set_config('app.user_id', '…', true), set_config('app.secret_hash', '…', true)",
      )
    }
  })

  it('carry no query string, token or email address, whichever attribute held them', () => {
    const setup = tracerWith()
    provider = setup.provider
    // As Next.js, @fastify/otel, the HTTP and undici instrumentations and ioredis set them.
    const span = setup.tracer.startSpan('GET', {
      kind: SpanKind.SERVER,
      attributes: {
        'http.method': 'GET',
        'http.target': '/reset-password?token=SECRETVALUE',
        'next.route': '/reset-password',
        'next.url': 'http://app.example.com/invitations/accept?token=SECRETVALUE#x',
        'http.url': 'http://app.example.com/auth/callback?code=SECRETVALUE&state=s',
        'url.full': 'https://hooks.example.com/in?secret=SECRETVALUE',
        'url.path': '/admin/queues/enter?ticket=SECRETVALUE',
        'url.query': 'ticket=SECRETVALUE',
        'http.route': '/v1/things?x=SECRETVALUE',
        'db.statement': 'evalsha abc 1 bull:emails ann@example.com',
        'user.note': ['sent to ann%40example.com'],
        'http.response.status_code': 200,
      },
    })
    span.addEvent('exception', { 'exception.message': 'no user ann@example.com' })
    span.setStatus({ code: 2, message: 'ann@example.com not found' })
    span.end()

    const [sent] = setup.exported.getFinishedSpans()
    expect(sent).toBeDefined()
    const text = JSON.stringify({
      name: sent?.name,
      attributes: sent?.attributes,
      events: sent?.events,
      status: sent?.status,
    })
    expect(text).not.toContain('SECRETVALUE')
    expect(text).not.toMatch(/ann(@|%40)example\.com/)
    expect(sent?.attributes).toMatchObject({
      'http.target': '/reset-password',
      'next.route': '/reset-password',
      'next.url': 'http://app.example.com/invitations/accept',
      'http.url': 'http://app.example.com/auth/callback',
      'url.full': 'https://hooks.example.com/in',
      'url.path': '/admin/queues/enter',
      'http.route': '/v1/things',
      'http.response.status_code': 200,
    })
    expect(sent?.attributes).not.toHaveProperty('url.query')
    // The span's identity survives the copy.
    expect(sent?.spanContext().traceId).toBe(span.spanContext().traceId)
  })
})

describe('the sampler', () => {
  // Next.js starts its request span with these attributes (base-server.js, handleRequest).
  const nextRequest = (target: string) => ({
    kind: SpanKind.SERVER,
    attributes: { 'http.method': 'GET', 'http.target': target },
  })

  for (const [name, sampler] of [
    ['with a collector', samplerFor(settings({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://x' }), {})],
    ['with Sentry only', samplerFor(settings({ SENTRY_TRACES_SAMPLE_RATE: 1 }))],
  ] as const)
    it(`starts no trace at a probe, and traces every other request (${name})`, () => {
      const setup = tracerWith(sampler)
      provider = setup.provider
      for (const target of ['/healthz', '/readyz', '/healthz?probe=1', '/metrics'])
        expect(setup.tracer.startSpan('GET', nextRequest(target)).isRecording(), target).toBe(false)
      const page = setup.tracer.startSpan('GET', nextRequest('/sign-in?next=/x'))
      expect(page.isRecording()).toBe(true)
      // The configured sampler decides the rest: a span inside a trace follows its parent.
      const child = setup.tracer.startSpan(
        'fetch',
        { attributes: { 'url.path': '/healthz' } },
        trace.setSpan(context.active(), page),
      )
      expect(child.isRecording()).toBe(true)
    })

  it('follows OTEL_TRACES_SAMPLER with a collector', () => {
    const setup = tracerWith(
      samplerFor(settings({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://x' }), {
        OTEL_TRACES_SAMPLER: 'always_off',
      }),
    )
    provider = setup.provider
    expect(setup.tracer.startSpan('GET', nextRequest('/')).isRecording()).toBe(false)
    const ratio = (arg: string | undefined) =>
      samplerFromEnv({
        OTEL_TRACES_SAMPLER: 'parentbased_traceidratio',
        OTEL_TRACES_SAMPLER_ARG: arg,
      }).toString()
    expect(ratio('0.1')).toContain('TraceIdRatioBased{0.1}')
    // Blank or out of range: every trace, as the SDK reads it.
    for (const arg of [undefined, '', '2']) expect(ratio(arg)).toContain('TraceIdRatioBased{1}')
  })
})

describe("the Node services' instrumentations", () => {
  it("record a Redis command's name, never its arguments (BullMQ's are job data)", () => {
    const all = nodeInstrumentations('worker')
    for (const item of all) item.disable()
    const redis = all.find(
      (item): item is IORedisInstrumentation => item instanceof IORedisInstrumentation,
    )
    const serialize = redis?.getConfig().dbStatementSerializer
    expect(serialize?.('evalsha', ['abc', '1', 'bull:emails', 'ann@example.com'])).toBe('evalsha')
  })

  it('are those OTEL_NODE_ENABLED_ and _DISABLED_INSTRUMENTATIONS leave, in either service', () => {
    const names = (...args: Parameters<typeof nodeInstrumentations>) => {
      const made = nodeInstrumentations(...args)
      for (const item of made) item.disable()
      return made.map((item) => item.instrumentationName)
    }
    expect(names('api')).toEqual([
      '@opentelemetry/instrumentation-http',
      '@opentelemetry/instrumentation-undici',
      '@opentelemetry/instrumentation-pg',
      '@opentelemetry/instrumentation-ioredis',
      '@prisma/instrumentation',
      '@fastify/otel',
    ])
    // The worker serves no Fastify requests.
    expect(names('worker')).not.toContain('@fastify/otel')
    expect(names('api', { disabled: ['prisma', 'ioredis'] })).toEqual([
      '@opentelemetry/instrumentation-http',
      '@opentelemetry/instrumentation-undici',
      '@opentelemetry/instrumentation-pg',
      '@fastify/otel',
    ])
    // The enabled list first, then the disabled one: a name in both is off.
    expect(names('api', { enabled: ['fastify', 'pg'], disabled: ['pg'] })).toEqual([
      '@fastify/otel',
    ])
    expect(names('api', { enabled: [] })).toEqual([])
  })

  it("make no span of Sentry's own deliveries, and trace the rest of its host", () => {
    const [http] = nodeInstrumentations('worker', {
      enabled: ['http'],
      untracedUrls: ['https://key@o1.ingest.de.sentry.io/1', 'http://key@127.0.0.1:4555/1'],
    }) as [HttpInstrumentation]
    http.disable()
    const ignore = http.getConfig().ignoreOutgoingRequestHook
    // As Sentry's transport calls it: hostname, port '' for the default, protocol.
    expect(ignore?.({ hostname: 'o1.ingest.de.sentry.io', port: '', protocol: 'https:' })).toBe(
      true,
    )
    expect(ignore?.({ host: 'o1.ingest.de.sentry.io' })).toBe(true)
    expect(ignore?.({ hostname: '127.0.0.1', port: '4555', protocol: 'http:' })).toBe(true)
    // A webhook endpoint on the same host, another port: traced, traceparent sent.
    expect(ignore?.({ hostname: '127.0.0.1', port: 4556, protocol: 'http:' })).toBe(false)
    expect(ignore?.({ hostname: 'hooks.example.com', protocol: 'https:' })).toBe(false)
  })

  it('are named in the environment by names it knows, or the service does not start', () => {
    const parse = (value: string) =>
      tracingEnv.safeParse({ OTEL_NODE_DISABLED_INSTRUMENTATIONS: value })
    expect(parse(' prisma, ioredis ,').data?.OTEL_NODE_DISABLED_INSTRUMENTATIONS).toEqual([
      'prisma',
      'ioredis',
    ])
    // A typo would otherwise leave the layer someone meant to turn off running.
    expect(parse('prisma,redis').success).toBe(false)
    expect(parse('@opentelemetry/instrumentation-pg').success).toBe(false)
  })
})
