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
  /**
   * false: keep events that repeat the one before (Sentry drops them by default). Tests
   * that count reports turn it off, so a duplicate cannot hide behind the deduplication.
   */
  dedupe?: boolean
}

/**
 * Sentry's "tracing off" (its hasSpansEnabled() checks `!= null`). Its option type allows
 * only a number or undefined, and undefined means "read the environment".
 */
const NO_SENTRY_TRACING = null as unknown as undefined

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
    // Sentry never traces by itself. Its tracing is OpenTelemetry's: with a collector or
    // SENTRY_TRACES_SAMPLE_RATE above 0, tracing.ts (loaded first) starts OpenTelemetry,
    // which exports to Sentry's OTLP endpoint; errors take the active span's trace id
    // (ADR 032). `null`, never undefined, says "no tracing": given undefined the SDK reads
    // SENTRY_TRACES_SAMPLE_RATE itself, and any number there, 0 included, makes it start
    // an unsampled span of every request, hook and handler and count each as dropped.
    tracesSampleRate: NO_SENTRY_TRACING,
    ...(isTracingStarted() ? { enableOpenTelemetrySetup: false } : {}),
    integrations: (defaults) => sentryIntegrations(defaults, config.dedupe !== false),
    beforeSend: scrubEvent,
    // No breadcrumbs (sentryIntegrations says why); should a team turn them on again, they
    // carry no email address either.
    maxBreadcrumbs: 0,
    beforeBreadcrumb: (breadcrumb) => scrubEmails(breadcrumb),
    // Personal data stays out of error reports unless a team opts in deliberately:
    // no user fields, cookies, bodies or identifying headers leave the process.
    dataCollection: SENTRY_DATA_COLLECTION,
    initialScope: { tags: { service: config.service } },
  })
  return true
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

/**
 * Sentry's integrations left out of every Node service:
 * - those that make spans or trace headers, or follow a framework's requests:
 *   OpenTelemetry's instrumentations do that work. Fastify's would wrap every hook and
 *   handler; the API's error handler reports 5xx itself (captureError), with the
 *   request's ids, since it alone knows which errors become 4xx answers (validation,
 *   mapped database refusals, expected domain errors).
 * - Http and NodeFetch: with spans and trace headers off, what they still did was per
 *   request: a cloned isolation scope, the request's headers and URL copied, a release-
 *   health session recorded, about 90 µs of CPU of every API request (a CPU profile of
 *   `BENCH_INSTRUMENTATION=1 pnpm bench:api`). Every report passes its context itself
 *   (captureError: request, trace, user, organization, route), so the per-request scope
 *   held nothing a report used.
 * - Breadcrumbs (Console, ChildProcess): without a scope per request they would mix
 *   concurrent requests and jobs of different organizations into one report; the logs,
 *   found by the report's request id, are the record of what came before an error.
 */
const LEFT_OUT = new Set([
  'Http',
  'NodeFetch',
  'Express',
  'Fastify',
  'Hapi',
  'Hono',
  'Koa',
  'Console',
  'ChildProcess',
])

/**
 * The integrations of every Node service: none of those above, and none of Sentry's
 * database, queue or AI tracing integrations (they would wrap every query and Redis
 * command in a span nobody records, and Sentry's Prisma integration would take Prisma's
 * tracing over from OpenTelemetry's); error capture, uncaught exceptions, linked errors
 * and the process's release-health session kept; and, while OpenTelemetry traces, its
 * span's trace id on every event. What each left-out group cost:
 * `BENCH_INSTRUMENTATION=1 BENCH_SIGNALS=errors pnpm bench:api` (docs/benchmarks.md).
 */
export function sentryIntegrations(defaults: Integration[], dedupe = true): Integration[] {
  const tracing = new Set(
    Sentry.getAutoPerformanceIntegrations().map((integration) => integration.name),
  )
  return [
    ...defaults.filter(
      (integration) =>
        !LEFT_OUT.has(integration.name) &&
        !tracing.has(integration.name) &&
        (dedupe || integration.name !== 'Dedupe'),
    ),
    ...(isTracingStarted() ? [Sentry.openTelemetryIntegration()] : []),
  ]
}

/**
 * The Sentry config of a Node service from its validated env (runtime + sentry schemas).
 * SENTRY_TRACES_SAMPLE_RATE is tracing.ts's to read: Sentry's traces are OpenTelemetry's.
 */
export function sentryConfigFromEnv(
  env: {
    SENTRY_DSN?: string | undefined
    SENTRY_ENVIRONMENT?: string | undefined
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
  }
}

/** Flushes buffered events; call during graceful shutdown. */
export async function flushSentry(timeoutMs = 2_000): Promise<void> {
  if (Sentry.isInitialized()) await Sentry.close(timeoutMs)
}

export { Sentry }
