import { subscribe } from 'node:diagnostics_channel'
import type { Integration } from '@sentry/core'
import * as Sentry from '@sentry/node'
import { isTracingStarted } from './tracing.ts'

export interface SentryConfig {
  dsn?: string | undefined
  environment: string
  release: string
  service: string
  tracesSampleRate: number
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
      ? { enableOpenTelemetrySetup: false, integrations: sentryOnOpenTelemetry }
      : { tracesSampleRate: config.tracesSampleRate }),
    // Personal data stays out of error reports unless a team opts in deliberately:
    // no user fields, cookies, bodies or auth headers leave the process.
    dataCollection: {
      userInfo: false,
      cookies: false,
      httpBodies: [],
      httpHeaders: {
        request: { deny: ['authorization', 'cookie', 'x-api-key'] },
        response: { deny: ['set-cookie'] },
      },
      urlQueryParams: true,
    },
    initialScope: { tags: { service: config.service } },
  })
  return true
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

interface FastifyLike {
  addHook(
    name: 'onError',
    hook: (request: unknown, reply: { statusCode: number }, error: Error) => Promise<void>,
  ): unknown
}

/**
 * What Sentry's Fastify integration reports (errors answered with a 5xx), without its
 * request instrumentation: that is a second OpenTelemetry Fastify instrumentation, and
 * two on one instance collide (both decorate `request.opentelemetry`, the second throws).
 */
function fastifyErrorsIntegration(): Integration {
  return {
    name: 'FastifyErrors',
    setupOnce() {
      subscribe('fastify.initialization', (message) => {
        ;(message as { fastify: FastifyLike }).fastify.addHook(
          'onError',
          async (_request, reply, error) => {
            // Runs before the error handler answers: the error's own status, as Sentry's
            // integration reads it, says whether it will be a 5xx.
            const status =
              reply.statusCode !== 200
                ? reply.statusCode
                : Number(
                    (error as { statusCode?: unknown; status?: unknown }).statusCode ??
                      (error as { status?: unknown }).status ??
                      500,
                  )
            if (!(status < 500))
              Sentry.captureException(error, {
                mechanism: { handled: false, type: 'auto.function.fastify' },
              })
          },
        )
      })
    },
  }
}

/**
 * Sentry's integrations while OpenTelemetry traces: no spans and no trace headers of its
 * own, request isolation, breadcrumbs and error capture kept, and the OpenTelemetry
 * span's trace id on every event.
 */
export function sentryOnOpenTelemetry(defaults: Integration[]): Integration[] {
  return [
    ...defaults.filter((integration) => !SPAN_INTEGRATIONS.has(integration.name)),
    Sentry.httpIntegration({ spans: false, tracePropagation: false }),
    Sentry.nativeNodeFetchIntegration({ spans: false, tracePropagation: false }),
    fastifyErrorsIntegration(),
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
