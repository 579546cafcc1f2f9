import { createServer, type IncomingHttpHeaders } from 'node:http'
import type { AddressInfo } from 'node:net'
import { context, ROOT_CONTEXT, type Span, TraceFlags, trace } from '@opentelemetry/api'
import { type OtlpReceiver, startOtlpReceiver } from '@repo/testing'
import { afterAll, beforeAll, expect, it } from 'vitest'
import { nodeInstrumentations } from './node-instrumentations.ts'
import { startTracing, stopTracing } from './tracing.ts'

// The services' instrumentations as tracing.ts starts them, one outgoing call each inside an
// unsampled and a sampled trace: the first costs no span of its own (the call carries its
// parent's span id on), the second is the SDK's as ever (a new span id, exported).
const TRACE_ID = '4bf92f3577b34da6a3ce929d0e0e4736'
const PARENT_SPAN_ID = '00f067aa0ba902b7'
const received: IncomingHttpHeaders[] = []
const server = createServer((request, response) => {
  received.push(request.headers)
  response.end('ok')
})
let receiver: OtlpReceiver

beforeAll(async () => {
  receiver = await startOtlpReceiver()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  // The sampler reads the process's environment, as in the services (samplerFor).
  process.env.OTEL_TRACES_SAMPLER = 'parentbased_traceidratio'
  process.env.OTEL_TRACES_SAMPLER_ARG = '0.1'
  const started = await startTracing(
    {
      service: 'worker',
      instrumentations: async ({ tracerProvider }) =>
        nodeInstrumentations('worker', { tracerProvider }),
      sentryOtlpEndpoint: async () => undefined,
    },
    { NODE_ENV: 'test', OTEL_EXPORTER_OTLP_ENDPOINT: receiver.endpoint },
  )
  expect(started).toBe(true)
})
afterAll(async () => {
  await stopTracing()
  server.close()
  await receiver?.close()
})

/** A fetch (undici's instrumentation) inside a caller's trace, sampled or not. */
async function callInside(traceFlags: TraceFlags): Promise<string | undefined> {
  const parent = trace.wrapSpanContext({
    traceId: TRACE_ID,
    spanId: PARENT_SPAN_ID,
    traceFlags,
    isRemote: true,
  })
  const { port } = server.address() as AddressInfo
  await context.with(trace.setSpan(ROOT_CONTEXT, parent), async () => {
    const response = await fetch(`http://127.0.0.1:${port}/hook`)
    await response.text()
  })
  return received.at(-1)?.traceparent as string | undefined
}

it("hands a child of an unsampled trace its parent's span: no span of its own", async () => {
  expect(await callInside(TraceFlags.NONE)).toBe(`00-${TRACE_ID}-${PARENT_SPAN_ID}-00`)
})

it("hands Prisma's operation in an unsampled trace its parent's span", () => {
  // What Prisma's client calls for each operation: the helper the instrumentation installs.
  const prisma = (globalThis as Record<string, unknown>).PRISMA_INSTRUMENTATION as {
    helper: { runInChildSpan<T>(options: { name: string }, run: (span: Span) => T): T }
  }
  const parent = trace.wrapSpanContext({
    traceId: TRACE_ID,
    spanId: PARENT_SPAN_ID,
    traceFlags: TraceFlags.NONE,
  })
  const span = context.with(trace.setSpan(ROOT_CONTEXT, parent), () =>
    prisma.helper.runInChildSpan({ name: 'operation' }, (child) => child),
  )
  expect(span).toBe(parent)
})

it('leaves a sampled trace to the SDK: a span of its own, exported', async () => {
  const traceparent = await callInside(TraceFlags.SAMPLED)
  const [, traceId, spanId, flags] = traceparent?.split('-') ?? []
  expect(traceId).toBe(TRACE_ID)
  expect(flags).toBe('01')
  expect(spanId).toMatch(/^[0-9a-f]{16}$/)
  expect(spanId).not.toBe(PARENT_SPAN_ID)
  await stopTracing() // exports what the batch holds
  const span = await receiver.waitForSpan((span) => span.spanId === spanId)
  expect(span).toMatchObject({ traceId: TRACE_ID, parentSpanId: PARENT_SPAN_ID, kind: 3 })
})
