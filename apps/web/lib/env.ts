import {
  appUrlEnv,
  loadEnvOrExit,
  loggingEnv,
  posthogEnv,
  runtimeEnv,
  sentryEnv,
  tracingEnv,
  webServerEnv,
} from '@repo/config'
import { z } from 'zod'

/**
 * What the web server tells browsers about telemetry (ADR 034): read when the server runs
 * and rendered into each page, so one image serves staging and production alike. The
 * values are public: browsers send them with every event.
 */
export const browserTelemetryEnv = z.object({
  /**
   * The DSN browsers report errors to: a frontend project's, or the server's own project
   * (its DSN is then public). Unset: browsers download no Sentry code and send nothing.
   */
  BROWSER_SENTRY_DSN: z.url({ protocol: /^https?$/ }).optional(),
  /** Share of page loads and navigations Sentry traces in browsers. Unset: none. */
  BROWSER_SENTRY_TRACES_SAMPLE_RATE: z.coerce.number().min(0).max(1).optional(),
  /** The PostHog project key (phc_) for browsers. Unset: no PostHog code, no events. */
  BROWSER_POSTHOG_KEY: z.string().min(1).optional(),
  /** Where browsers send PostHog's events: the EU cloud, the US one, or your own proxy. */
  BROWSER_POSTHOG_HOST: z.url({ protocol: /^https?$/ }).default('https://eu.i.posthog.com'),
})

/** What the web server reads from the environment; validated once when it starts. */
export const webEnvSchema = runtimeEnv
  .extend(webServerEnv.shape)
  .extend(appUrlEnv.shape)
  .extend(sentryEnv.shape)
  .extend(posthogEnv.shape)
  .extend(loggingEnv.shape)
  .extend(tracingEnv.shape)
  .extend(browserTelemetryEnv.shape)

export type WebEnv = z.infer<typeof webEnvSchema>

let loaded: WebEnv | undefined

/** The validated environment; the first call validates it and exits on what is wrong. */
export function loadWebEnv(): WebEnv {
  loaded ??= loadEnvOrExit(webEnvSchema)
  return loaded
}

/**
 * The environment and release Sentry events carry, from the server and from the browsers
 * it serves alike: the same release name as the api and worker (version+commit).
 */
export function sentryIdentity(
  env: Pick<WebEnv, 'SENTRY_ENVIRONMENT' | 'NODE_ENV' | 'APP_VERSION' | 'GIT_COMMIT'>,
): { environment: string; release: string } {
  return {
    environment: env.SENTRY_ENVIRONMENT ?? env.NODE_ENV,
    release: `${env.APP_VERSION}+${env.GIT_COMMIT}`,
  }
}
