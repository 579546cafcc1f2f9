import * as Sentry from '@sentry/nextjs'
import posthog from 'posthog-js'

// Browser-side Sentry and PostHog. Each is inactive unless its public key is set at build
// time (NEXT_PUBLIC_*), so development and tests send nothing anywhere.
const sentryDsn = process.env.NEXT_PUBLIC_SENTRY_DSN
if (sentryDsn) {
  Sentry.init({
    dsn: sentryDsn,
    environment: process.env.NEXT_PUBLIC_SENTRY_ENVIRONMENT,
    tracesSampleRate: Number(process.env.NEXT_PUBLIC_SENTRY_TRACES_SAMPLE_RATE ?? 0),
  })
}

const posthogKey = process.env.NEXT_PUBLIC_POSTHOG_KEY
if (posthogKey) {
  posthog.init(posthogKey, {
    api_host: process.env.NEXT_PUBLIC_POSTHOG_HOST ?? 'https://eu.i.posthog.com',
    // Text and inputs are masked in recordings; no autocapture of element text.
    mask_all_text: true,
    mask_all_element_attributes: true,
    session_recording: { maskAllInputs: true },
    capture_pageview: 'history_change',
    person_profiles: 'identified_only',
  })
}

export const onRouterTransitionStart = Sentry.captureRouterTransitionStart
