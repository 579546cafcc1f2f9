import { METHODS } from 'node:http'
import { metricsSettings } from '@repo/config'
import { databasePool } from '@repo/db'
import {
  Counter,
  createMetrics,
  Histogram,
  type MetricsServer,
  startMetricsServer,
} from '@repo/observability'
import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'

/** Requests the router matched no route for: one series, whatever the URL was. */
export const UNMATCHED_ROUTE = '__unmatched__'
const KNOWN_METHODS = new Set(METHODS)

/**
 * Why a sign-in failed, for auth_sign_in_failures_total: a closed set of reasons, from the
 * error the sign-in routes answered with.
 */
export type SignInFailureReason =
  | 'bad_credentials'
  | 'locked'
  | 'mfa_failed'
  | 'mfa_expired'
  | 'rate_limited'
  | 'invalid_input'
  | 'oauth_failed'
  | 'error'

const REASONS: Record<string, SignInFailureReason> = {
  invalid_credentials: 'bad_credentials',
  sign_in_throttled: 'locked',
  invalid_mfa_code: 'mfa_failed',
  mfa_challenge_expired: 'mfa_expired',
  rate_limited: 'rate_limited',
  invalid_input: 'invalid_input',
  FST_ERR_VALIDATION: 'invalid_input',
  // OAuth: a forged, replayed or expired state, a code or profile the provider refused,
  // an address it has not verified.
  invalid_oauth_state: 'oauth_failed',
  oauth_failed: 'oauth_failed',
  oauth_email_unverified: 'oauth_failed',
}

export function signInFailureReason(error: { code?: unknown; statusCode?: unknown }) {
  const code = typeof error.code === 'string' ? error.code : ''
  return REASONS[code] ?? 'error'
}

/**
 * Prometheus metrics of the API (the contract: infra/monitoring/metrics.json): request
 * durations by route pattern, rate-limit refusals, failed sign-ins, readiness, the pg pool
 * and, process-wide, Redis command latency and Node's default metrics. Served on a port of
 * its own (METRICS_PORT, METRICS_HOST; METRICS_ENABLED: on in production by default),
 * never on the public one: /metrics on the API's port is a 404 like any unknown path.
 */
export default fp(
  async function metrics(fastify: FastifyInstance) {
    const config = fastify.config
    const settings = metricsSettings(config, config.METRICS_PORT)
    const metrics = createMetrics({
      service: 'api',
      version: config.APP_VERSION,
      commit: config.GIT_COMMIT,
    })
    const { registry } = metrics
    const requests = new Histogram({
      name: 'http_request_duration_seconds',
      help: 'HTTP requests served, by route pattern (never the raw URL; unmatched routes are `__unmatched__`)',
      labelNames: ['method', 'route', 'status_code'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers: [registry],
    })
    const rateLimitRejections = new Counter({
      name: 'rate_limit_rejections_total',
      help: 'Requests refused with 429, by which limit refused them',
      labelNames: ['limit'],
      registers: [registry],
    })
    const signInFailures = new Counter({
      name: 'auth_sign_in_failures_total',
      help: 'Failed sign-ins, by reason (bad_credentials, locked, mfa_failed, ...)',
      labelNames: ['reason'],
      registers: [registry],
    })
    const pool = databasePool(fastify.db)
    if (pool) metrics.instrumentPool(pool, 'app')
    // The probes' own check (cached, one at a time, bounded by READINESS_TIMEOUT_MS).
    metrics.readinessFrom(async () => ({ ...(await fastify.readiness.check()) }))

    fastify.decorate('metrics', {
      rateLimited: (limit: 'ip' | 'user' | 'organization') => rateLimitRejections.inc({ limit }),
      signInFailed: (error: { code?: unknown; statusCode?: unknown }) =>
        signInFailures.inc({ reason: signInFailureReason(error) }),
    })
    if (!settings.enabled) return

    // The route's pattern, never the URL: /v1/orgs/:orgId/projects, one series for every id.
    fastify.addHook('onResponse', (request, reply, done) => {
      requests.observe(
        {
          method: KNOWN_METHODS.has(request.method) ? request.method : 'OTHER',
          route: request.routeOptions.url ?? UNMATCHED_ROUTE,
          status_code: String(reply.statusCode),
        },
        reply.elapsedTime / 1_000,
      )
      done()
    })

    let server: MetricsServer | undefined
    fastify.addHook('onReady', async () => {
      metrics.collectProcessMetrics()
      server = await startMetricsServer({
        metrics,
        host: settings.host,
        port: settings.port,
        token: settings.token,
        logger: fastify.log,
      })
    })
    // Last of all: Prometheus can still scrape while the API drains.
    fastify.addHook('onClose', async () => {
      await server?.close()
    })
    fastify.decorate('metricsServer', {
      get port() {
        return server?.port
      },
    })
  },
  { name: 'metrics', dependencies: ['db', 'readiness'] },
)

declare module 'fastify' {
  interface FastifyInstance {
    metrics: {
      rateLimited(limit: 'ip' | 'user' | 'organization'): void
      /** Counts a sign-in answered with `error`, by its reason (signInFailureReason). */
      signInFailed(error: { code?: unknown; statusCode?: unknown }): void
    }
    /** Where the metrics server listens (when enabled): tests read the port chosen for 0. */
    metricsServer?: { readonly port: number | undefined }
  }
}
