import { isSpanContextValid, trace } from '@opentelemetry/api'
import type { Integration } from '@sentry/core'
import * as Sentry from '@sentry/node'
import { SENTRY_DATA_COLLECTION, scrubEmails, scrubErrorEvent } from './scrub.ts'
import { isTracingStarted } from './tracing.ts'

export interface SentryConfig {
  dsn?: string | undefined
  environment: string
  release: string
  service: string
  tracesSampleRate: number
  /**
   * false: keep events that repeat the one before (Sentry drops them by default). Tests
   * that count reports turn it off, so a duplicate cannot hide behind the deduplication.
   */
  dedupe?: boolean
}

/**
 * Initialises Sentry for a Node process. Inactive (returns false, sends nothing) when no
 * DSN is configured, so local development and tests need no account. Call it before the
 * rest of the app is imported so auto-instrumentation can patch modules.
 */
export function initSentry(config: SentryConfig): boolean {
  if (!config.dsn) return false
  Sentry.init({
    dsn: config.dsn,
    environment: config.environment,
    release: config.release,
    serverName: config.service,
    // With OpenTelemetry running (tracing.ts), Sentry installs no tracing of its own:
    // errors take the trace id of the active OpenTelemetry span, and Sentry's spans are
    // OpenTelemetry's, exported to its OTLP endpoint (ADR 032).
    ...(isTracingStarted()
      ? { enableOpenTelemetrySetup: false }
      : { tracesSampleRate: config.tracesSampleRate }),
    // The API's error handler reports 5xx itself (captureError), with the request's ids:
    // it alone knows which errors become 4xx answers (validation, mapped database refusals,
    // expected domain errors), which the Fastify integration's own status guess would
    // report. So the integration reports nothing, and while OpenTelemetry traces it is not
    // there at all (its request instrumentation would be a second one).
    integrations: (defaults) => {
      // Sentry adds its own tracing integrations (Postgres, Prisma, Redis, ...) whenever a
      // traces sample rate is set, even 0, and reads SENTRY_TRACES_SAMPLE_RATE from the
      // environment by itself. While OpenTelemetry traces, its instrumentations make those
      // spans: Sentry's would be a second, never-recorded set on every query and Redis
      // command (some 15% of the API's CPU under load, `pnpm bench:api` with
      // BENCH_INSTRUMENTATION=1), and its Prisma integration would take Prisma's tracing
      // over from OpenTelemetry's. At rate 0 without OpenTelemetry they record nothing.
      const untraced =
        isTracingStarted() || config.tracesSampleRate === 0 ? sentryTracingIntegrations() : null
      const kept = defaults.filter(
        (integration) =>
          (config.dedupe !== false || integration.name !== 'Dedupe') &&
          !untraced?.has(integration.name),
      )
      return isTracingStarted()
        ? sentryOnOpenTelemetry(kept)
        : kept.map((integration) =>
            integration.name === 'Fastify'
              ? Sentry.fastifyIntegration({ shouldHandleError: () => false })
              : integration,
          )
    },
    beforeSend: scrubEvent,
    beforeBreadcrumb: (breadcrumb) => scrubEmails(breadcrumb),
    // Personal data stays out of error reports unless a team opts in deliberately:
    // no user fields, cookies, bodies or identifying headers leave the process.
    dataCollection: SENTRY_DATA_COLLECTION,
    initialScope: { tags: { service: config.service } },
  })
  return true
}

/** The names of the integrations Sentry adds only to trace (database clients, queues, AI). */
function sentryTracingIntegrations(): Set<string> {
  return new Set(Sentry.getAutoPerformanceIntegrations().map((integration) => integration.name))
}

/** Sentry's beforeSend in every service: no email address, the user an id only. */
export const scrubEvent = <E extends Sentry.ErrorEvent>(event: E): E => scrubErrorEvent(event)

/** Who and what a captured error concerns; ids only, never an email or a name. */
export interface ErrorContext {
  requestId?: string | undefined
  userId?: string | undefined
  organizationId?: string | undefined
  tags?: Record<string, string | undefined>
  extra?: Record<string, unknown>
}

/** The trace id of the active OpenTelemetry span, when one is recording. */
export function activeTraceId(): string | undefined {
  const context = trace.getActiveSpan()?.spanContext()
  return context && isSpanContextValid(context) ? context.traceId : undefined
}

/**
 * Reports an error with the ids that let someone find its request, trace, user and
 * organization. A no-op without a DSN. Returns the event id when one was sent.
 */
export function captureError(error: unknown, context: ErrorContext = {}): string | undefined {
  if (!Sentry.isInitialized()) return undefined
  const tags: Record<string, string> = {}
  for (const [key, value] of Object.entries({
    ...context.tags,
    request_id: context.requestId,
    organization_id: context.organizationId,
    trace_id: activeTraceId(),
  }))
    if (value !== undefined) tags[key] = value
  return Sentry.captureException(error, {
    tags,
    ...(context.userId ? { user: { id: context.userId } } : {}),
    ...(context.extra ? { extra: context.extra } : {}),
  })
}

/** Sentry's span-making integrations: OpenTelemetry's instrumentations do their work. */
const SPAN_INTEGRATIONS = new Set([
  'Http',
  'NodeFetch',
  'Express',
  'Fastify',
  'Hapi',
  'Hono',
  'Koa',
])

/**
 * Sentry's integrations while OpenTelemetry traces: no spans and no trace headers of its
 * own (the API's error handler reports its 5xx), request isolation, breadcrumbs and error
 * capture kept, and the OpenTelemetry span's trace id on every event.
 */
export function sentryOnOpenTelemetry(defaults: Integration[]): Integration[] {
  return [
    ...defaults.filter((integration) => !SPAN_INTEGRATIONS.has(integration.name)),
    Sentry.httpIntegration({ spans: false, tracePropagation: false }),
    Sentry.nativeNodeFetchIntegration({ spans: false, tracePropagation: false }),
    Sentry.openTelemetryIntegration(),
  ]
}

/** The Sentry config of a Node service from its validated env (runtime + sentry schemas). */
export function sentryConfigFromEnv(
  env: {
    SENTRY_DSN?: string | undefined
    SENTRY_ENVIRONMENT?: string | undefined
    SENTRY_TRACES_SAMPLE_RATE: number
    NODE_ENV: string
    APP_VERSION: string
    GIT_COMMIT: string
  },
  service: string,
): SentryConfig {
  return {
    dsn: env.SENTRY_DSN,
    environment: env.SENTRY_ENVIRONMENT ?? env.NODE_ENV,
    // One release name across api, worker and web: version+commit.
    release: `${env.APP_VERSION}+${env.GIT_COMMIT}`,
    service,
    tracesSampleRate: env.SENTRY_TRACES_SAMPLE_RATE,
  }
}

/** Flushes buffered events; call during graceful shutdown. */
export async function flushSentry(timeoutMs = 2_000): Promise<void> {
  if (Sentry.isInitialized()) await Sentry.close(timeoutMs)
}

export { Sentry }
