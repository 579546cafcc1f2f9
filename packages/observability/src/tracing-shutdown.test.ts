import { createServer, type Socket } from 'node:net'
import { trace } from '@opentelemetry/api'
import { afterAll, expect, it } from 'vitest'
import { isTracingStarted, startTracing, stopTracing } from './tracing.ts'

// A collector that accepts connections and never answers: the worst a shutdown meets.
const sockets = new Set<Socket>()
const silent = createServer((socket) => {
  sockets.add(socket)
  socket.on('close', () => sockets.delete(socket))
})
afterAll(async () => {
  for (const socket of sockets) socket.destroy()
  await new Promise((resolve) => silent.close(resolve))
})

it('stops within its bound when the collector never answers, dropping what it could not send', async () => {
  await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve))
  const { port } = silent.address() as { port: number }
  const started = await startTracing(
    {
      service: 'shutdown-test',
      instrumentations: async () => [],
      sentryOtlpEndpoint: async () => undefined,
    },
    { NODE_ENV: 'test', OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${port}` },
  )
  expect(started).toBe(true)
  for (let i = 0; i < 10; i++) trace.getTracer('test').startSpan(`buffered ${i}`).end()

  const begun = performance.now()
  await stopTracing(1_000)
  const tookMs = performance.now() - begun
  // The exporter alone would wait its 10 s timeout: beyond the API's and worker's drain.
  expect(tookMs).toBeGreaterThanOrEqual(900)
  expect(tookMs).toBeLessThan(3_000)
  expect(isTracingStarted()).toBe(false)
  expect(sockets.size).toBeGreaterThan(0)
})
