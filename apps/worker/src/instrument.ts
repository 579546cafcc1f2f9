// Imported first by main.ts so Sentry can instrument modules before they load.
import { loadEnvOrExit } from '@repo/config'
import { initSentry } from '@repo/observability'
import { workerEnvSchema } from './env.ts'

const env = loadEnvOrExit(workerEnvSchema)

initSentry({
  dsn: env.SENTRY_DSN,
  environment: env.SENTRY_ENVIRONMENT ?? env.NODE_ENV,
  release: `${env.APP_VERSION}+${env.GIT_COMMIT}`,
  service: 'worker',
  tracesSampleRate: env.SENTRY_TRACES_SAMPLE_RATE,
})
