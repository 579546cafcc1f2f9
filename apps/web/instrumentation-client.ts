import { loadSentry, startTelemetry } from './lib/telemetry-client.ts'

// Browser-side Sentry and PostHog, as the server that rendered the page configured them
// (the settings element the root layout renders, ADR 034). Each is inactive unless the
// server set its browser key, so development and tests send nothing anywhere, and
// download neither SDK (lib/telemetry-client.ts).
startTelemetry()

export function onRouterTransitionStart(
  ...args: Parameters<typeof import('@sentry/nextjs').captureRouterTransitionStart>
) {
  void loadSentry()?.then((sentry) => sentry.captureRouterTransitionStart(...args))
}
