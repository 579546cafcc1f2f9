import { SENTRY_DATA_COLLECTION, scrubErrorEvent } from '@repo/observability/scrub'
import * as Sentry from '@sentry/nextjs'

// Runs once when the Next.js server starts: validate the env (exit with the list of what
// is wrong), settle whose address a request carries, start OpenTelemetry when an OTLP
// endpoint (or Sentry tracing) is configured, then server-side Sentry, inactive without a
// DSN. Errors of pages, route handlers and Server Actions reach Sentry through
// onRequestError below.
export async function register() {
  if (process.env.NEXT_RUNTIME !== 'nodejs') return
  const { loadWebEnv, sentryIdentity } = await import('./lib/env.ts')
  const env = loadWebEnv()
  const { trustProxyHops } = await import('./lib/server/trust-proxy.ts')
  trustProxyHops(env.WEB_TRUST_PROXY_HOPS)
  // Next.js traces requests and renders itself once a tracer provider exists; fetch
  // (undici) carries the trace to the API. Off, nothing below loads (ADR 032).
  const { startTracing } = await import('@repo/observability/tracing')
  const traced = await startTracing({
    service: 'web',
    instrumentations: async () => {
      const { UndiciInstrumentation } = await import('@opentelemetry/instrumentation-undici')
      return [new UndiciInstrumentation()]
    },
    sentryOtlpEndpoint: async (dsn) => Sentry.getOtlpTracesEndpoint(dsn),
  })
  if (!env.SENTRY_DSN) return
  Sentry.init({
    dsn: env.SENTRY_DSN,
    // The same environment and release the browsers this server serves report with.
    ...sentryIdentity(env),
    // With OpenTelemetry running, Sentry registers no tracer of its own: errors join the
    // active span's trace, and Sentry's spans are OpenTelemetry's, sent over OTLP.
    // Sentry's own fetch and HTTP spans and trace headers give way to OpenTelemetry's.
    ...(traced
      ? {
          enableOpenTelemetrySetup: false,
          integrations: (defaults) => [
            ...defaults.filter(({ name }) => name !== 'Http' && name !== 'NodeFetch'),
            Sentry.httpIntegration({ spans: false, tracePropagation: false }),
            Sentry.nativeNodeFetchIntegration({ spans: false, tracePropagation: false }),
            Sentry.openTelemetryIntegration(),
          ],
        }
      : {}),
    // Never Sentry's own tracing: it is OpenTelemetry's (started above when a collector or
    // SENTRY_TRACES_SAMPLE_RATE above 0 asks for it). `null`, never undefined: given
    // undefined the SDK reads SENTRY_TRACES_SAMPLE_RATE itself, and any number there, 0
    // included, has it start an unsampled span of every request (see initSentry).
    tracesSampleRate: null as unknown as undefined,
    // Personal data stays out, as in the api and worker: no IP, cookies or headers that
    // identify someone, and no email address in any string of an event.
    dataCollection: SENTRY_DATA_COLLECTION,
    beforeSend: (event) => {
      // The request id the web app passes to the API, so one id finds both sides' reports.
      const requestId = event.request?.headers?.['x-request-id']
      if (requestId) event.tags = { ...event.tags, request_id: requestId }
      return scrubErrorEvent(event)
    },
    initialScope: { tags: { service: 'web' } },
  })
}

export const onRequestError = Sentry.captureRequestError
