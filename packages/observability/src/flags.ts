import type { Analytics, FlagCheck } from './analytics.ts'

/**
 * The feature flags the product reads, each with the value it takes when PostHog is not
 * configured, unreachable, slow (past POSTHOG_FLAG_TIMEOUT_MS) or does not know the flag.
 * That default is always today's behaviour, so an outage changes nothing users see.
 * Create each in PostHog under its key (docs/observability.md, "Feature flags").
 */
export const FEATURE_FLAGS = {
  /**
   * A kill switch for self-service sign-up, for an abuse wave or an incident: off, the API
   * refuses new accounts (403 `signup_paused`) and the web app's sign-up page says so
   * instead of showing the form. Invitations and sign-in are unaffected.
   */
  signupEnabled: { key: 'signup-enabled', fallback: true },
} as const satisfies Record<string, { key: string; fallback: boolean }>

export type FeatureFlag = (typeof FEATURE_FLAGS)[keyof typeof FEATURE_FLAGS]

/** Sign-up happens before there is a user: flags for it are read for this one id. */
export const ANONYMOUS_DISTINCT_ID = 'anonymous'

/** A declared flag's value, or its default (see FEATURE_FLAGS); bounded in time, never throws. */
export function isFlagEnabled(
  analytics: Analytics,
  flag: FeatureFlag,
  check: FlagCheck,
): Promise<boolean> {
  return analytics.isFeatureEnabled(flag.key, check, flag.fallback)
}
