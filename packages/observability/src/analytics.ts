import { PostHog } from 'posthog-node'
import { scrubPersonalProperties } from './scrub.ts'

export interface AnalyticsConfig {
  /** Without a key the client is inactive: nothing is sent, every flag is its default. */
  key?: string | undefined
  host?: string
  /**
   * A personal API key (`phx_...`) or project secret key (`phs_...`): feature flags are then
   * evaluated locally from definitions polled in the background, with no request per check.
   */
  personalApiKey?: string | undefined
  /** How long a flag check may wait for PostHog before it answers its default. */
  flagTimeoutMs?: number
  /**
   * false (the default): emails, names and other personal keys are removed from every
   * event's properties before it is queued. true only where a privacy review allowed it.
   */
  allowPersonalProperties?: boolean
  /** Batching; tests lower them. */
  flushAt?: number
  flushIntervalMs?: number
  /** How long shutdown waits for the last batch: PostHog being down must not hold a deploy. */
  shutdownTimeoutMs?: number
}

export interface AnalyticsEvent {
  /** A stable, non-personal id: a user or organization id, never an email. */
  distinctId: string
  event: string
  properties?: Record<string, unknown>
  /** Associates the event with an organization (PostHog group analytics). */
  organizationId?: string
}

export interface FlagCheck {
  /** Who the flag is evaluated for: a user id (never an email). */
  distinctId: string
  /** The organization, so flags can roll out per organization (group targeting). */
  organizationId?: string | undefined
}

export interface Analytics {
  readonly active: boolean
  capture(event: AnalyticsEvent): void
  /**
   * A boolean flag, or `fallback` when PostHog is not configured, does not answer within
   * the bound, fails, or does not know the flag. Never throws.
   */
  isFeatureEnabled(flag: string, check: FlagCheck | string, fallback?: boolean): Promise<boolean>
  shutdown(): Promise<void>
}

export const DEFAULT_FLAG_TIMEOUT_MS = 300

/**
 * Product analytics and feature flags through PostHog. With no key configured it is
 * inactive: capture is a no-op and every flag reads as its default, so code never needs to
 * branch on config.
 */
export function createAnalytics(config: AnalyticsConfig): Analytics {
  if (!config.key) {
    return {
      active: false,
      capture: () => {},
      isFeatureEnabled: async (_flag, _check, fallback = false) => fallback,
      shutdown: async () => {},
    }
  }
  const allowPersonal = config.allowPersonalProperties === true
  const flagTimeoutMs = config.flagTimeoutMs ?? DEFAULT_FLAG_TIMEOUT_MS
  const client = new PostHog(config.key, {
    host: config.host ?? 'https://eu.i.posthog.com',
    flushAt: config.flushAt ?? 20,
    flushInterval: config.flushIntervalMs ?? 5_000,
    // One batch request never hangs longer than this (the SDK's default is 10 s).
    requestTimeout: 3_000,
    // A flag check never waits longer than its bound; the SDK's own request gives up too.
    featureFlagsRequestTimeoutMs: flagTimeoutMs,
    // posthog-node calls it personalApiKey (deprecated) or secretKey; both enable local evaluation.
    ...(config.personalApiKey ? { secretKey: config.personalApiKey } : {}),
    // No location from the server's address: it is ours, not the user's.
    disableGeoip: true,
    // Every event, however it was built, passes the scrub before it is queued.
    ...(allowPersonal
      ? {}
      : {
          before_send: (message) =>
            message
              ? { ...message, properties: scrubPersonalProperties(message.properties ?? {}) }
              : message,
        }),
  })
  // Delivery failures (PostHog down) are the SDK's to retry; they must never crash us.
  client.on('error', () => {})

  return {
    active: true,
    capture: ({ distinctId, event, properties, organizationId }) =>
      client.capture({
        distinctId,
        event,
        ...(properties
          ? { properties: allowPersonal ? properties : scrubPersonalProperties(properties) }
          : {}),
        ...(organizationId ? { groups: { organization: organizationId } } : {}),
      }),
    isFeatureEnabled: async (flag, check, fallback = false) => {
      const { distinctId, organizationId } =
        typeof check === 'string' ? { distinctId: check, organizationId: undefined } : check
      let timer: NodeJS.Timeout | undefined
      const bound = new Promise<undefined>((resolve) => {
        timer = setTimeout(() => resolve(undefined), flagTimeoutMs)
        timer.unref()
      })
      try {
        const value = await Promise.race([
          client
            .getFeatureFlag(flag, distinctId, {
              ...(organizationId ? { groups: { organization: organizationId } } : {}),
            })
            .catch(() => undefined),
          bound,
        ])
        return typeof value === 'boolean' ? value : typeof value === 'string' ? true : fallback
      } finally {
        clearTimeout(timer)
      }
    },
    shutdown: () => client.shutdown(config.shutdownTimeoutMs ?? 2_000),
  }
}

/** The analytics config of a service from its validated env (the posthog schema). */
export function analyticsConfigFromEnv(env: {
  POSTHOG_KEY?: string | undefined
  POSTHOG_HOST: string
  POSTHOG_PERSONAL_API_KEY?: string | undefined
  POSTHOG_FLAG_TIMEOUT_MS: number
  POSTHOG_ALLOW_PERSONAL_PROPERTIES: boolean
}): AnalyticsConfig {
  return {
    key: env.POSTHOG_KEY,
    host: env.POSTHOG_HOST,
    personalApiKey: env.POSTHOG_PERSONAL_API_KEY,
    flagTimeoutMs: env.POSTHOG_FLAG_TIMEOUT_MS,
    allowPersonalProperties: env.POSTHOG_ALLOW_PERSONAL_PROPERTIES,
  }
}
