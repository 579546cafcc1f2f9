import { acceptRequestId, REQUEST_ID_HEADER } from '@repo/observability/request-id'
import { type NextRequest, NextResponse } from 'next/server'
import { loadWebEnv } from './lib/env.ts'
import { contentSecurityPolicy } from './lib/security-headers.ts'
import { browserTelemetryConfig } from './lib/server/browser-telemetry.ts'

/**
 * Every page request: a fresh CSP nonce (Next puts it on its own scripts when it finds it
 * in the request's CSP header) and the telemetry hosts this server tells browsers to use,
 * the path, which pages use as the return path when a
 * session has ended, and the request id (the caller's X-Request-Id when it is plain, else
 * a new one), which the server sends to the API and returns to the caller. Access is never decided here: requests can
 * skip a proxy (CVE-2025-29927), so every page and action asks the API itself.
 */
export function proxy(request: NextRequest) {
  const env = loadWebEnv()
  const https = new URL(env.APP_URL).protocol === 'https:'
  const nonce = Buffer.from(crypto.randomUUID()).toString('base64')
  const csp = contentSecurityPolicy(nonce, {
    dev: env.NODE_ENV === 'development',
    https,
    telemetry: browserTelemetryConfig(env),
  })

  const forwarded = new Headers(request.headers)
  forwarded.set('content-security-policy', csp)
  forwarded.set('x-nonce', nonce)
  forwarded.set('x-groundwork-path', `${request.nextUrl.pathname}${request.nextUrl.search}`)
  const requestId = acceptRequestId(request.headers.get(REQUEST_ID_HEADER))
  forwarded.set(REQUEST_ID_HEADER, requestId)
  const response = NextResponse.next({ request: { headers: forwarded } })
  response.headers.set('content-security-policy', csp)
  response.headers.set(REQUEST_ID_HEADER, requestId)
  return response
}

export const config = {
  // Every answer's other security headers come from next.config.ts; assets need no nonce.
  matcher: [
    {
      source: '/((?!_next/static|_next/image|favicon.ico|healthz).*)',
      missing: [{ type: 'header', key: 'next-router-prefetch' }],
    },
  ],
}
