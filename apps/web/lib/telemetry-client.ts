/**
 * Browser telemetry, loaded only when configured. Sentry's and PostHog's browser SDKs are
 * about half of the JavaScript every page shares; a page whose server configured neither
 * (the settings it renders into the page, ADR 034) does not download them at all, and one
 * with them fetches them after the page has started.
 */
import {
  CREDENTIAL_QUERY_PARAMS,
  SENTRY_DATA_COLLECTION,
  scrubEmails,
  scrubErrorEvent,
  stripUrlQueries,
} from '@repo/observability/scrub'
import type { PostHogConfig } from 'posthog-js'
import {
  type BrowserTelemetryConfig,
  parseTelemetryConfig,
  TELEMETRY_CONFIG_ELEMENT_ID,
} from './telemetry-config.ts'

type SentryModule = typeof import('@sentry/nextjs')

let settings: BrowserTelemetryConfig | undefined

/**
 * The settings the server rendered into this page, read once. Next runs
 * instrumentation-client.ts when its (async) main script arrives, which may be before the
 * parser has reached the element: until the document is parsed, a missing element is not
 * taken as "none configured".
 */
function telemetrySettings(): BrowserTelemetryConfig {
  if (settings) return settings
  const element = document.getElementById(TELEMETRY_CONFIG_ELEMENT_ID)
  const read = parseTelemetryConfig(element?.textContent)
  if (element || document.readyState !== 'loading') settings = read
  return read
}

let sentry: Promise<SentryModule> | undefined

/** Sentry once initialised, or undefined when the server configured no DSN for browsers. */
export function loadSentry(): Promise<SentryModule> | undefined {
  if (sentry) return sentry
  const config = telemetrySettings().sentry
  if (!config) return undefined
  sentry = import('@sentry/nextjs').then((module) => {
    module.init({
      dsn: config.dsn,
      environment: config.environment,
      release: config.release,
      tracesSampleRate: config.tracesSampleRate ?? 0,
      // As on the servers: no IP or identifying headers, no email in any string. And no
      // URL's query string or fragment (the page's, a breadcrumb's, a span's), in errors
      // and in spans alike (spans never pass beforeSend): in a browser they hold the
      // reset, verification and invitation tokens of the links people follow.
      dataCollection: { ...SENTRY_DATA_COLLECTION, urlQueryParams: false },
      beforeSend: (event) => scrubErrorEvent(stripUrlQueries(event)),
      beforeSendSpan: (span) => scrubEmails(stripUrlQueries(span)),
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
 * invitation tokens travel; and no property carries an email address. No feature flags
 * are asked for: the servers evaluate them (lib/server/flags.ts), and posthog-js's flags request
 * carries the first URL of the visit, query included, as a person property that
 * before_send never sees.
 */
export function posthogOptions(apiHost: string): Partial<PostHogConfig> {
  return {
    api_host: apiHost,
    advanced_disable_feature_flags: true,
    // The visit's first URL is kept (cookie and localStorage, for a year) and sent as
    // $initial_* person properties: masked at the source, not only in before_send.
    mask_personal_data_properties: true,
    custom_personal_data_properties: [...CREDENTIAL_QUERY_PARAMS],
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

function start(): void {
  void loadSentry()
  const posthog = telemetrySettings().posthog
  if (posthog)
    void import('posthog-js').then(({ default: client }) =>
      client.init(posthog.key, posthogOptions(posthog.host)),
    )
}

/**
 * Starts what the server configured: at once when the settings element has been parsed
 * (it opens the body, so it usually has), else once the document has been.
 */
export function startTelemetry(): void {
  if (document.readyState === 'loading' && !document.getElementById(TELEMETRY_CONFIG_ELEMENT_ID))
    document.addEventListener('DOMContentLoaded', start, { once: true })
  else start()
}
