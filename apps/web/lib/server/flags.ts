import 'server-only'
import {
  type Analytics,
  analyticsConfigFromEnv,
  createAnalytics,
} from '@repo/observability/analytics'
import { ANONYMOUS_DISTINCT_ID, FEATURE_FLAGS, isFlagEnabled } from '@repo/observability/flags'
import { loadWebEnv } from '../env.ts'

/**
 * Feature flags on the web server, through the same bounded wrapper as the API: a flag
 * answers its default (today's behaviour) when PostHog is not configured, down or slower
 * than POSTHOG_FLAG_TIMEOUT_MS. One client per server process.
 */
let client: Analytics | undefined
function flags(): Analytics {
  client ??= createAnalytics(analyticsConfigFromEnv(loadWebEnv()))
  return client
}

/** The sign-up kill switch: the page says sign-ups are paused instead of showing the form. */
export function signUpOpen(): Promise<boolean> {
  return isFlagEnabled(flags(), FEATURE_FLAGS.signupEnabled, { distinctId: ANONYMOUS_DISTINCT_ID })
}
