/**
 * Browser telemetry, loaded only when configured. Sentry's and PostHog's browser SDKs are
 * about half of the JavaScript every page shares; a build without their public keys (set
 * at build time, NEXT_PUBLIC_*) does not download them at all, and one with them fetches
 * them after the page has started.
 */
import {
  SENTRY_DATA_COLLECTION,
  scrubEmails,
  scrubErrorEvent,
  stripUrlQueries,
} from '@repo/observability/scrub'
import type { PostHogConfig } from 'posthog-js'

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
      // As on the servers: no IP or identifying headers, no email in any string.
      dataCollection: SENTRY_DATA_COLLECTION,
      beforeSend: scrubErrorEvent,
    })
    return module
  })
  return sentry
}

/** An error an error boundary caught: to Sentry when it is configured. */
export function reportError(error: unknown): void {
  void loadSentry()?.then((module) => module.captureException(error))
}

/**
 * posthog-js's options. Session recordings mask every input and all text (a recording
 * shows the page's shape, never what someone typed or read); autocapture keeps no element
 * text or attributes; pageviews follow client-side navigation; no URL an event carries
 * ($current_url, $referrer, $pathname, $initial_* and $session_entry_* in its properties and
 * person properties) keeps its query string or fragment, where reset, verification and
 * invitation tokens travel; and no property carries an email address.
 */
export function posthogOptions(apiHost: string = POSTHOG_HOST): Partial<PostHogConfig> {
  return {
    api_host: apiHost,
    mask_all_text: true,
    mask_all_element_attributes: true,
    session_recording: { maskAllInputs: true, maskTextSelector: '*' },
    capture_pageview: 'history_change',
    person_profiles: 'identified_only',
    before_send: (event) => {
      if (!event) return event
      const clean = <T>(properties: T): T => scrubEmails(stripUrlQueries(properties))
      return {
        ...event,
        properties: clean(event.properties ?? {}),
        ...(event.$set ? { $set: clean(event.$set) } : {}),
        ...(event.$set_once ? { $set_once: clean(event.$set_once) } : {}),
      }
    },
  }
}

export function startTelemetry(): void {
  void loadSentry()
  if (posthogKey)
    void import('posthog-js').then(({ default: posthog }) =>
      posthog.init(posthogKey, posthogOptions()),
    )
}
