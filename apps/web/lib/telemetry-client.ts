/**
 * Browser telemetry, loaded only when configured. Sentry's and PostHog's browser SDKs are
 * about half of the JavaScript every page shares; a build without their public keys (set
 * at build time, NEXT_PUBLIC_*) does not download them at all, and one with them fetches
 * them after the page has started.
 */
type SentryModule = typeof import('@sentry/nextjs')

const sentryDsn = process.env.NEXT_PUBLIC_SENTRY_DSN
const posthogKey = process.env.NEXT_PUBLIC_POSTHOG_KEY

/** Where the browser sends PostHog's events (the EU cloud unless configured). */
export const POSTHOG_HOST = process.env.NEXT_PUBLIC_POSTHOG_HOST ?? 'https://eu.i.posthog.com'

let sentry: Promise<SentryModule> | undefined

/** Sentry once initialised, or undefined when no DSN is configured. */
export function loadSentry(): Promise<SentryModule> | undefined {
  if (!sentryDsn) return undefined
  sentry ??= import('@sentry/nextjs').then((module) => {
    module.init({
      dsn: sentryDsn,
      environment: process.env.NEXT_PUBLIC_SENTRY_ENVIRONMENT,
      tracesSampleRate: Number(process.env.NEXT_PUBLIC_SENTRY_TRACES_SAMPLE_RATE ?? 0),
    })
    return module
  })
  return sentry
}

/** An error an error boundary caught: to Sentry when it is configured. */
export function reportError(error: unknown): void {
  void loadSentry()?.then((module) => module.captureException(error))
}

export function startTelemetry(): void {
  void loadSentry()
  if (posthogKey)
    void import('posthog-js').then(({ default: posthog }) =>
      posthog.init(posthogKey, {
        api_host: POSTHOG_HOST,
        // Text and inputs are masked in recordings; no autocapture of element text.
        mask_all_text: true,
        mask_all_element_attributes: true,
        session_recording: { maskAllInputs: true },
        capture_pageview: 'history_change',
        person_profiles: 'identified_only',
      }),
    )
}
