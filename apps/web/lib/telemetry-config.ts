/**
 * The browser's telemetry settings, which the web server renders into every page (ADR 034):
 * one build serves every environment, and each environment's server says where its
 * browsers report. Everything here is public by nature (a DSN's public key, a PostHog
 * project key): browsers send it with every event anyway.
 */

/** The id of the `<script type="application/json">` element that carries the settings. */
export const TELEMETRY_CONFIG_ELEMENT_ID = 'telemetry-config'

export interface BrowserTelemetryConfig {
  /** Present only when a browser DSN is configured. */
  sentry?: {
    dsn: string
    environment: string
    release: string
    /** Share of page loads and navigations traced; absent: none. */
    tracesSampleRate?: number
  }
  /** Present only when a browser key is configured. */
  posthog?: { key: string; host: string }
}

/**
 * The settings as the text of a non-executing script element. JSON never needs `<` escaped,
 * but HTML does inside a script: as \u003c, no value can end the element (`</script>`) or
 * open a comment, and JSON.parse reads it back unchanged.
 */
export function serializeTelemetryConfig(config: BrowserTelemetryConfig): string {
  return JSON.stringify(config).replaceAll('<', '\\u003c')
}

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value)
const isText = (value: unknown): value is string => typeof value === 'string' && value !== ''

/**
 * The settings from the element's text: only the parts whose fields have the expected
 * types. Anything else (no element, text that is not JSON, a part missing a field) leaves
 * that SDK off rather than starting it half-configured.
 */
export function parseTelemetryConfig(text: string | null | undefined): BrowserTelemetryConfig {
  if (!text) return {}
  let raw: unknown
  try {
    raw = JSON.parse(text)
  } catch {
    return {}
  }
  if (!isRecord(raw)) return {}
  const config: BrowserTelemetryConfig = {}
  const { sentry, posthog } = raw
  if (
    isRecord(sentry) &&
    isText(sentry.dsn) &&
    isText(sentry.environment) &&
    isText(sentry.release)
  ) {
    const rate = sentry.tracesSampleRate
    config.sentry = {
      dsn: sentry.dsn,
      environment: sentry.environment,
      release: sentry.release,
      ...(typeof rate === 'number' && rate >= 0 && rate <= 1 ? { tracesSampleRate: rate } : {}),
    }
  }
  if (isRecord(posthog) && isText(posthog.key) && isText(posthog.host))
    config.posthog = { key: posthog.key, host: posthog.host }
  return config
}
