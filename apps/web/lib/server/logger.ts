import 'server-only'
import { createLogger, type Logger } from '@repo/observability/logger'
import { loadWebEnv } from '../env.ts'

let root: Logger | undefined

/**
 * The web server's logger: the same pino set-up as the api and worker (JSON on stdout,
 * pretty in development, redaction at every depth, trace ids from the active span), with
 * `service: web`. Server-only: pino never reaches a browser bundle.
 */
export function serverLogger(): Logger {
  if (!root) {
    const env = loadWebEnv()
    root = createLogger({
      service: 'web',
      level: env.LOG_LEVEL,
      pretty: env.LOG_PRETTY,
      version: env.APP_VERSION,
      environment: env.SENTRY_ENVIRONMENT ?? env.NODE_ENV,
      allowEmails: env.LOG_EMAILS,
    })
  }
  return root
}
