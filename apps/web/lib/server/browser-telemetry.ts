import { sentryIdentity, type WebEnv } from '../env.ts'
import type { BrowserTelemetryConfig } from '../telemetry-config.ts'

/**
 * What browsers are told about telemetry, from the server's environment: Sentry with the
 * server's own environment and release (a browser error names the deployment it happened
 * in, not the build), PostHog with its host. Only what is configured; undefined when
 * nothing is, so a page then carries no settings at all. Read per request by the root
 * layout (rendered into the page) and the proxy (the CSP's connect-src).
 */
export function browserTelemetryConfig(env: WebEnv): BrowserTelemetryConfig | undefined {
  const config: BrowserTelemetryConfig = {}
  if (env.BROWSER_SENTRY_DSN)
    config.sentry = {
      dsn: env.BROWSER_SENTRY_DSN,
      ...sentryIdentity(env),
      ...(env.BROWSER_SENTRY_TRACES_SAMPLE_RATE === undefined
        ? {}
        : { tracesSampleRate: env.BROWSER_SENTRY_TRACES_SAMPLE_RATE }),
    }
  if (env.BROWSER_POSTHOG_KEY)
    config.posthog = { key: env.BROWSER_POSTHOG_KEY, host: env.BROWSER_POSTHOG_HOST }
  return config.sentry || config.posthog ? config : undefined
}
