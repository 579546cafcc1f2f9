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

/** Flushes buffered events; call during graceful shutdown. */
export async function flushSentry(timeoutMs = 2_000): Promise<void> {
  if (Sentry.isInitialized()) await Sentry.close(timeoutMs)
}

export { Sentry }
