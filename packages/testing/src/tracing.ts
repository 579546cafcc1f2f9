import { context, type Tracer, trace } from '@opentelemetry/api'
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks'
import { BasicTracerProvider } from '@opentelemetry/sdk-trace-base'

/**
 * A real OpenTelemetry tracer provider with async context, registered globally for one
 * test file: spans started with `tracer.startActiveSpan` are what
 * `trace.getActiveSpan()` returns inside them. `stop()` unregisters it.
 */
export function registerTestTracer(): { tracer: Tracer; stop(): Promise<void> } {
  const contextManager = new AsyncLocalStorageContextManager().enable()
  context.setGlobalContextManager(contextManager)
  const provider = new BasicTracerProvider()
  trace.setGlobalTracerProvider(provider)
  return {
    tracer: trace.getTracer('groundwork-test'),
    async stop() {
      trace.disable()
      context.disable()
      await provider.shutdown()
    },
  }
}
