import { PostHog } from 'posthog-node'

export interface AnalyticsConfig {
  /** Without a key the client is inactive. */
  key?: string | undefined
  host?: string
}

export interface AnalyticsEvent {
  /** A stable, non-personal id: a user or organization id, never an email. */
  distinctId: string
  event: string
  properties?: Record<string, unknown>
  /** Associates the event with an organization (PostHog group analytics). */
  organizationId?: string
}

export interface Analytics {
  readonly active: boolean
  capture(event: AnalyticsEvent): void
  isFeatureEnabled(flag: string, distinctId: string): Promise<boolean>
  shutdown(): Promise<void>
}

/**
 * Product analytics through PostHog. With no key configured it is inactive: capture is a
 * no-op and every feature flag reads as off, so code never needs to branch on config.
 */
export function createAnalytics(config: AnalyticsConfig): Analytics {
  if (!config.key) {
    return {
      active: false,
      capture: () => {},
      isFeatureEnabled: async () => false,
      shutdown: async () => {},
    }
  }
  const client = new PostHog(config.key, {
    host: config.host ?? 'https://eu.i.posthog.com',
    flushAt: 20,
    flushInterval: 5_000,
  })
  return {
    active: true,
    capture: ({ distinctId, event, properties, organizationId }) =>
      client.capture({
        distinctId,
        event,
        ...(properties ? { properties } : {}),
        ...(organizationId ? { groups: { organization: organizationId } } : {}),
      }),
    isFeatureEnabled: async (flag, distinctId) =>
      (await client.isFeatureEnabled(flag, distinctId)) === true,
    shutdown: () => client.shutdown(),
  }
}
