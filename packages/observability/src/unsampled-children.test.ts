import {
  type Attributes,
  type Context,
  context,
  INVALID_SPAN_CONTEXT,
  isSpanContextValid,
  type Link,
  ROOT_CONTEXT,
  type SpanKind,
  TraceFlags,
  trace,
} from '@opentelemetry/api'
import { suppressTracing } from '@opentelemetry/core'
import {
  InMemorySpanExporter,
  ParentBasedSampler,
  type Sampler,
  SimpleSpanProcessor,
  StackContextManager,
  TraceIdRatioBasedSampler,
  TracerProvider,
} from '@opentelemetry/sdk-trace'
import { afterEach, describe, expect, it } from 'vitest'
import type { TracingSettings } from './tracing.ts'
import { childrenFollowParent, samplerFor } from './tracing-sdk.ts'
import { FollowingTracerProvider } from './unsampled-children.ts'

// A child of an unsampled span is handed its parent instead of a new span: the SDK's id,
// attribute and sampler work for a span nobody records is skipped (ADR 032). Sampled traces
// are the SDK's alone.

/** The SDK's own sampler, counting the spans it is asked about. */
class Counting implements Sampler {
  asked = 0
  private readonly inner: Sampler
  constructor(inner: Sampler) {
    this.inner = inner
  }
  shouldSample(
    ctx: Context,
    traceId: string,
    name: string,
    kind: SpanKind,
    attributes: Attributes,
    links: Link[],
  ) {
    this.asked++
    return this.inner.shouldSample(ctx, traceId, name, kind, attributes, links)
  }
  toString() {
    return 'Counting'
  }
}

let provider: TracerProvider | undefined
afterEach(async () => {
  await provider?.shutdown()
  provider = undefined
  trace.disable()
  context.disable()
})

/** The SDK as tracing-sdk.ts sets it up, with one trace in `ratio` sampled. */
function sdk(ratio: number) {
  const sampler = new Counting(
    new ParentBasedSampler({ root: new TraceIdRatioBasedSampler(ratio) }),
  )
  const exported = new InMemorySpanExporter()
  provider = new TracerProvider({
    sampler,
    spanProcessors: [new SimpleSpanProcessor({ exporter: exported })],
  })
  trace.setGlobalTracerProvider(provider)
  // Synchronous work only here: the SDK's in-process context manager is enough.
  context.setGlobalContextManager(new StackContextManager().enable())
  return { sampler, exported, tracer: new FollowingTracerProvider().getTracer('test', '1.0.0') }
}

describe('a child of an unsampled span', () => {
  it('is its parent, non-recording, without asking the sampler', () => {
    const { sampler, tracer } = sdk(0)
    const root = tracer.startSpan('GET /v1/things')
    expect(root.isRecording()).toBe(false)
    expect(sampler.asked).toBe(1)
    const parent = trace.setSpan(ROOT_CONTEXT, root)

    const child = tracer.startSpan('pg.query:SELECT', { attributes: { 'db.name': 'app' } }, parent)
    expect(child).toBe(root)
    const nested = context.with(parent, () =>
      tracer.startActiveSpan('prisma:client:operation', (span) =>
        tracer.startActiveSpan('evalsha', { attributes: {} }, (inner) => {
          expect(trace.getActiveSpan()).toBe(root)
          inner.end()
          return span
        }),
      ),
    )
    expect(nested).toBe(root)
    // The trace id and the unsampled flag still travel on (logs, jobs, outgoing calls).
    expect(child.spanContext().traceId).toBe(root.spanContext().traceId)
    expect(child.spanContext().traceFlags & TraceFlags.SAMPLED).toBe(0)
    expect(sampler.asked).toBe(1)
  })

  it("is its remote parent's span when the caller did not sample the trace", () => {
    const { sampler, tracer } = sdk(1)
    const remote = trace.wrapSpanContext({
      traceId: '4bf92f3577b34da6a3ce929d0e0e4736',
      spanId: '00f067aa0ba902b7',
      traceFlags: TraceFlags.NONE,
      isRemote: true,
    })
    expect(tracer.startSpan('request', {}, trace.setSpan(ROOT_CONTEXT, remote))).toBe(remote)
    expect(sampler.asked).toBe(0)
  })

  it('still starts a trace of its own when asked for a root', () => {
    const { sampler, tracer } = sdk(1)
    const unsampled = trace.wrapSpanContext({
      traceId: '4bf92f3577b34da6a3ce929d0e0e4736',
      spanId: '00f067aa0ba902b7',
      traceFlags: TraceFlags.NONE,
    })
    const root = tracer.startSpan('job', { root: true }, trace.setSpan(ROOT_CONTEXT, unsampled))
    expect(root.isRecording()).toBe(true)
    expect(root.spanContext().traceId).not.toBe('4bf92f3577b34da6a3ce929d0e0e4736')
    expect(sampler.asked).toBe(1)
  })

  it('is left to the SDK when tracing is suppressed or the parent is invalid', () => {
    const { tracer } = sdk(1)
    const invalid = trace.wrapSpanContext(INVALID_SPAN_CONTEXT)
    // The SDK starts a trace of its own under an invalid parent...
    const started = tracer.startSpan('poll', {}, trace.setSpan(ROOT_CONTEXT, invalid))
    expect(started).not.toBe(invalid)
    expect(started.isRecording()).toBe(true)
    // ...and hands out its own invalid span where tracing is suppressed.
    const unsampled = trace.wrapSpanContext({
      traceId: '4bf92f3577b34da6a3ce929d0e0e4736',
      spanId: '00f067aa0ba902b7',
      traceFlags: TraceFlags.NONE,
    })
    const quiet = suppressTracing(trace.setSpan(ROOT_CONTEXT, unsampled))
    const suppressed = tracer.startSpan('poll', {}, quiet)
    expect(suppressed).not.toBe(unsampled)
    expect(isSpanContextValid(suppressed.spanContext())).toBe(false)
    // startActiveSpan with no context given takes the active one, as the SDK's does.
    const active = context.with(trace.setSpan(ROOT_CONTEXT, unsampled), () =>
      tracer.startActiveSpan('child', {}, undefined as unknown as Context, (span) => span),
    )
    expect(active).toBe(unsampled)
  })
})

describe('a sampled trace', () => {
  it("is the SDK's alone: every child recorded, with an id of its own under its parent", () => {
    const { sampler, exported, tracer } = sdk(1)
    tracer.startActiveSpan('GET /v1/things', (root) => {
      tracer.startActiveSpan('prisma:client:operation', (operation) => {
        tracer.startSpan('pg.query:SELECT').end()
        operation.end()
      })
      root.end()
    })
    const spans = exported.getFinishedSpans()
    expect(spans.map((span) => span.name)).toEqual([
      'pg.query:SELECT',
      'prisma:client:operation',
      'GET /v1/things',
    ])
    const [query, operation, root] = spans
    expect(new Set(spans.map((span) => span.spanContext().spanId)).size).toBe(3)
    expect(query?.parentSpanContext?.spanId).toBe(operation?.spanContext().spanId)
    expect(operation?.parentSpanContext?.spanId).toBe(root?.spanContext().spanId)
    expect(sampler.asked).toBe(3)
  })

  it('keeps a span that ended recording nothing but was sampled the parent of a new span', () => {
    const { exported, tracer } = sdk(1)
    const root = tracer.startSpan('GET /v1/things')
    root.end()
    expect(root.isRecording()).toBe(false)
    tracer.startSpan('late', {}, trace.setSpan(ROOT_CONTEXT, root)).end()
    expect(exported.getFinishedSpans().map((span) => span.name)).toEqual(['GET /v1/things', 'late'])
  })
})

describe('when the shortcut applies', () => {
  const settings = (endpoint?: string) =>
    ({ SENTRY_TRACES_SAMPLE_RATE: 0.1, OTEL_EXPORTER_OTLP_ENDPOINT: endpoint }) as TracingSettings
  // The sampler the SDK is given (samplerFor), for each OTEL_TRACES_SAMPLER.
  const follows = (endpoint: string | undefined, sampler: string | undefined) =>
    childrenFollowParent(samplerFor(settings(endpoint), { OTEL_TRACES_SAMPLER: sampler }))

  it('only under samplers that leave a child of an unsampled span unsampled', () => {
    const collector = 'http://collector:4318'
    for (const sampler of [
      undefined,
      'parentbased_traceidratio',
      'parentbased_always_on',
      'parentbased_always_off',
      'always_off',
    ])
      expect(follows(collector, sampler), sampler).toBe(true)
    for (const sampler of ['always_on', 'traceidratio', ' traceidratio '])
      expect(follows(collector, sampler), sampler).toBe(false)
    // Sentry alone: parent-based at SENTRY_TRACES_SAMPLE_RATE, whatever OTEL_TRACES_SAMPLER says.
    expect(follows(undefined, 'always_on')).toBe(true)
  })
})
