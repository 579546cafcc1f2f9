import * as Sentry from '@sentry/nextjs'

// Server-side Sentry for the Next.js server (Node and edge runtimes). Inactive without a DSN.
export async function register() {
  const dsn = process.env.SENTRY_DSN
  if (!dsn) return
  Sentry.init({
    dsn,
    environment: process.env.SENTRY_ENVIRONMENT ?? process.env.NODE_ENV,
    release: process.env.GIT_COMMIT,
    tracesSampleRate: Number(process.env.SENTRY_TRACES_SAMPLE_RATE ?? 0),
  })
}

export const onRequestError = Sentry.captureRequestError
