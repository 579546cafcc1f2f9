import { context, propagation, type Tracer, trace } from '@opentelemetry/api'
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks'
import { W3CTraceContextPropagator } from '@opentelemetry/core'
import { BasicTracerProvider } from '@opentelemetry/sdk-trace-base'

/**
 * A real OpenTelemetry tracer provider with async context and W3C trace-context
 * propagation, registered globally for one test file: spans started with
 * `tracer.startActiveSpan` are what `trace.getActiveSpan()` returns inside them, and
 * `propagation.inject` writes their traceparent. `stop()` unregisters all of it.
 */
export function registerTestTracer(): { tracer: Tracer; stop(): Promise<void> } {
  const contextManager = new AsyncLocalStorageContextManager().enable()
  context.setGlobalContextManager(contextManager)
  const provider = new BasicTracerProvider()
  trace.setGlobalTracerProvider(provider)
  propagation.setGlobalPropagator(new W3CTraceContextPropagator())
  return {
    tracer: trace.getTracer('groundwork-test'),
    async stop() {
      trace.disable()
      propagation.disable()
      context.disable()
      await provider.shutdown()
    },
  }
}
