// OpenTelemetry before anything else: loaded with `node --import ./src/tracing.ts` (the
// start and dev scripts and the image do), so the SDK patches modules before the app's
// imports load them (ADR 032). Without an OTLP endpoint (or Sentry tracing) it returns at
// once having loaded nothing.
import { startServiceTracing } from '@repo/observability/tracing-node'

await startServiceTracing('api')
