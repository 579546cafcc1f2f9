import * as Sentry from '@sentry/node'

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
    tracesSampleRate: config.tracesSampleRate,
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
