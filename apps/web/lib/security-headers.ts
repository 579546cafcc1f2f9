import type { BrowserTelemetryConfig } from './telemetry-config.ts'

/**
 * Headers every answer of the web app carries (pages, assets, route handlers). The CSP,
 * which needs a nonce per request, is added by proxy.ts.
 */
export function staticSecurityHeaders(): Record<string, string> {
  return {
    // Two years, subdomains included. Browsers ignore it on plain http (RFC 6797 8.1), so
    // it is safe to send from development servers too.
    'Strict-Transport-Security': 'max-age=63072000; includeSubDomains',
    'X-Content-Type-Options': 'nosniff',
    // frame-ancestors 'none' in the CSP; this for browsers that predate it.
    'X-Frame-Options': 'DENY',
    // Links in emails carry tokens in their query: no other site sees our URLs.
    'Referrer-Policy': 'same-origin',
    'Permissions-Policy':
      'camera=(), microphone=(), geolocation=(), payment=(), usb=(), browsing-topics=()',
    'Cross-Origin-Opener-Policy': 'same-origin',
  }
}

/**
 * Hosts the browser code talks to besides this site: the telemetry the server configured
 * for browsers (read per request, so the CSP follows the running server's settings).
 */
function telemetryOrigins(telemetry: BrowserTelemetryConfig | undefined): string[] {
  const origins: string[] = []
  const dsn = telemetry?.sentry?.dsn
  if (dsn && URL.canParse(dsn)) origins.push(new URL(dsn).origin)
  const host = telemetry?.posthog?.host
  if (host && URL.canParse(host)) {
    const events = new URL(host)
    // PostHog's cloud serves its recorder and flags scripts from a sibling -assets host.
    const assets = new URL(host)
    assets.hostname = events.hostname.replace(/^([a-z]+)\.i\./, '$1-assets.i.')
    origins.push(events.origin, assets.origin)
  }
  return [...new Set(origins)]
}

/**
 * The Content-Security-Policy of a page: scripts only with this request's nonce (and
 * what they load, 'strict-dynamic'), no plugins, no framing, forms and <base> only to
 * this site. Styles allow inline attributes, which React and the UI library set; no
 * inline script runs without the nonce.
 */
export function contentSecurityPolicy(
  nonce: string,
  options: { dev: boolean; https: boolean; telemetry?: BrowserTelemetryConfig | undefined },
) {
  const directives = [
    "default-src 'self'",
    // 'unsafe-eval' only for the development server's hot reloading.
    `script-src 'self' 'nonce-${nonce}' 'strict-dynamic'${options.dev ? " 'unsafe-eval'" : ''}`,
    "style-src 'self' 'unsafe-inline'",
    "img-src 'self' data: blob:",
    "font-src 'self'",
    `connect-src 'self' ${telemetryOrigins(options.telemetry).join(' ')}`.trim(),
    "object-src 'none'",
    "base-uri 'self'",
    "form-action 'self'",
    "frame-ancestors 'none'",
    ...(options.https ? ['upgrade-insecure-requests'] : []),
  ]
  return directives.join('; ')
}
