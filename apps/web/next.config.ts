import { withSentryConfig } from '@sentry/nextjs/config'
import type { NextConfig } from 'next'
import { staticSecurityHeaders } from './lib/security-headers.ts'

const nextConfig: NextConfig = {
  reactStrictMode: true,
  poweredByHeader: false,
  // Self-contained server bundle for the container image.
  output: 'standalone',
  // A second build beside the real one (scripts/scan-client-bundle.ts --build), never
  // over it: the test suite's server runs from .next meanwhile.
  distDir: process.env.GROUNDWORK_WEB_DIST_DIR || '.next',
  // Workspace packages ship TypeScript source; Next compiles them.
  transpilePackages: ['@repo/config', '@repo/api-client', '@repo/schemas', '@repo/observability'],
  // The OpenTelemetry SDK runs as Node loads it (it patches modules and reads its own
  // package files), loaded only when tracing is on (ADR 032).
  serverExternalPackages: [
    '@opentelemetry/sdk-node',
    '@opentelemetry/instrumentation-undici',
    '@opentelemetry/exporter-trace-otlp-http',
  ],
  typescript: {
    // Type errors fail `pnpm typecheck` (tsc) in the same gate; no second checker here.
    ignoreBuildErrors: true,
  },
  async headers() {
    const headers = Object.entries(staticSecurityHeaders()).map(([key, value]) => ({
      key,
      value,
    }))
    return [{ source: '/:path*', headers }]
  },
}

// Source-map upload needs SENTRY_AUTH_TOKEN (CI/deploy only); without it the build
// still wires Sentry's runtime instrumentation and skips the upload.
export default withSentryConfig(nextConfig, {
  silent: true,
  telemetry: false,
  authToken: process.env.SENTRY_AUTH_TOKEN,
  sourcemaps: { disable: !process.env.SENTRY_AUTH_TOKEN },
})
