import { type Context, ROOT_CONTEXT, type TracerProvider } from '@opentelemetry/api'
import type { Instrumentation } from '@opentelemetry/instrumentation'
import { parseEnv, runtimeEnv, sentryEnv, tracingEnv } from '@repo/config'
import type { Telemetry } from 'bullmq'

/**
 * OpenTelemetry tracing, started before the app (ADR 032). This module is all a process
 * loads while tracing is off: it reads the environment and stops there, so no SDK, no
 * instrumentation and no module hook costs anything. The SDK itself lives in
 * tracing-sdk.ts, imported only when there is somewhere to send spans.
 */

const settingsSchema = runtimeEnv.extend(tracingEnv.shape).extend(sentryEnv.shape)
export type TracingSettings = ReturnType<typeof settingsSchema.parse>

export interface TracingOptions {
  /** service.name unless OTEL_SERVICE_NAME says otherwise. */
  service: string
  /**
   * The service's instrumentations, loaded only when tracing starts, taking their tracers
   * from `tracerProvider` when one is given (else from the global provider).
   */
  instrumentations: (setup: {
    tracerProvider: TracerProvider | undefined
    settings: TracingSettings
  }) => Promise<Instrumentation[]>
  /** Sentry's OTLP traces endpoint for a DSN (the Sentry SDK the service uses knows it). */
  sentryOtlpEndpoint: (
    dsn: string,
  ) => Promise<{ url: string; headers: Record<string, string> } | undefined>
}

export interface StartedTracing {
  /** BullMQ's telemetry adapter, for every Queue and Worker of the process. */
  bullmq: Telemetry
  /** A root context in which nothing is traced, for work that polls. */
  untraced: Context
  /** Exports what is buffered and stops: call once, at the end of a graceful shutdown. */
  shutdown(): Promise<void>
}

// On globalThis, not in a module variable: the register file and the app could load two
// copies of this module (a loader hook, a bundler), and both must see one state.
const STATE = Symbol.for('groundwork.tracing')
const holder = globalThis as { [STATE]?: StartedTracing }

/**
 * Whether spans have anywhere to go: an OTLP collector, or Sentry with tracing asked for
 * (Sentry receives OpenTelemetry's spans over OTLP; it never traces on its own).
 */
export function tracingWanted(settings: TracingSettings): boolean {
  if (settings.OTEL_SDK_DISABLED) return false
  return Boolean(
    settings.OTEL_EXPORTER_OTLP_ENDPOINT ||
      (settings.SENTRY_DSN && settings.SENTRY_TRACES_SAMPLE_RATE > 0),
  )
}

/**
 * Starts the OpenTelemetry SDK for a service when the environment asks for it; otherwise
 * returns false having loaded nothing. Idempotent. An invalid environment starts nothing
 * here: the app's own env check names the problem and exits.
 */
export async function startTracing(
  options: TracingOptions,
  source: Record<string, string | undefined> = process.env,
): Promise<boolean> {
  if (holder[STATE]) return true
  let settings: TracingSettings
  try {
    settings = parseEnv(settingsSchema, source)
  } catch {
    return false
  }
  if (!tracingWanted(settings)) return false
  const { startNodeSdk } = await import('./tracing-sdk.ts')
  holder[STATE] = await startNodeSdk(options, settings)
  return true
}

/** True once startTracing has started the SDK in this process. */
export function isTracingStarted(): boolean {
  return holder[STATE] !== undefined
}

/** BullMQ's `telemetry` option while tracing runs; undefined (no work at all) otherwise. */
export function queueTelemetry(): Telemetry | undefined {
  return holder[STATE]?.bullmq
}

/**
 * A context for polling work whose spans nobody wants (run it with `context.with`): tracing
 * suppressed while it runs, the plain root context when tracing is off.
 */
export function untracedContext(): Context {
  return holder[STATE]?.untraced ?? ROOT_CONTEXT
}

/**
 * Flushes buffered spans and stops the SDK; a no-op when tracing is off. Waits at most
 * `timeoutMs`: a collector that does not answer costs the shutdown that long and no more
 * (the exporter's own timeout is 10 s, beyond the drain budgets of api and worker), and
 * the spans still buffered then are dropped.
 */
export async function stopTracing(timeoutMs = 2_000): Promise<void> {
  const started = holder[STATE]
  if (!started) return
  holder[STATE] = undefined
  let timer: NodeJS.Timeout | undefined
  await Promise.race([
    started.shutdown().catch(() => {}),
    new Promise<void>((resolve) => {
      timer = setTimeout(resolve, timeoutMs)
      timer.unref()
    }),
  ])
  clearTimeout(timer)
}
