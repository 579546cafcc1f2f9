import { loadSentry, startTelemetry } from './lib/telemetry-client.ts'

// Browser-side Sentry and PostHog. Each is inactive unless its public key is set at build
// time (NEXT_PUBLIC_*), so development and tests send nothing anywhere, and download
// neither SDK (lib/telemetry-client.ts).
startTelemetry()

export function onRouterTransitionStart(
  ...args: Parameters<typeof import('@sentry/nextjs').captureRouterTransitionStart>
) {
  void loadSentry()?.then((sentry) => sentry.captureRouterTransitionStart(...args))
}
