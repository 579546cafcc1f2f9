import { SENTRY_DATA_COLLECTION, scrubErrorEvent } from '@repo/observability/scrub'
import * as Sentry from '@sentry/nextjs'

// Runs once when the Next.js server starts: validate the env (exit with the list of what
// is wrong), settle whose address a request carries, then server-side Sentry, inactive
// without a DSN. Errors of pages, route handlers and Server Actions reach Sentry through
// onRequestError below.
export async function register() {
  if (process.env.NEXT_RUNTIME !== 'nodejs') return
  const { loadWebEnv } = await import('./lib/env.ts')
  const env = loadWebEnv()
  const { trustProxyHops } = await import('./lib/server/trust-proxy.ts')
  trustProxyHops(env.WEB_TRUST_PROXY_HOPS)
  if (!env.SENTRY_DSN) return
  Sentry.init({
    dsn: env.SENTRY_DSN,
    environment: env.SENTRY_ENVIRONMENT ?? env.NODE_ENV,
    // Same release name as the api and worker: version+commit.
    release: `${env.APP_VERSION}+${env.GIT_COMMIT}`,
    tracesSampleRate: env.SENTRY_TRACES_SAMPLE_RATE,
    // Personal data stays out, as in the api and worker: no IP, cookies or headers that
    // identify someone, and no email address in any string of an event.
    dataCollection: SENTRY_DATA_COLLECTION,
    beforeSend: (event) => {
      // The request id the web app passes to the API, so one id finds both sides' reports.
      const requestId = event.request?.headers?.['x-request-id']
      if (requestId) event.tags = { ...event.tags, request_id: requestId }
      return scrubErrorEvent(event)
    },
    initialScope: { tags: { service: 'web' } },
  })
}

export const onRequestError = Sentry.captureRequestError
