// Imported first by the entry point so Sentry can instrument modules before they load.
import { loadEnvOrExit } from '@repo/config'
import { initSentry, sentryConfigFromEnv } from '@repo/observability'
import { apiEnvSchema } from './env.ts'

initSentry(sentryConfigFromEnv(loadEnvOrExit(apiEnvSchema), 'api'))
