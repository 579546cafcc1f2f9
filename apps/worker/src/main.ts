import './instrument.ts'
import { loadEnvOrExit } from '@repo/config'
import { EMAIL_JOB, EMAIL_QUEUE } from '@repo/jobs'
import { createAnalytics, createLogger, flushSentry } from '@repo/observability'
import { Redis } from 'ioredis'
import { createWorker } from './create-worker.ts'
import { createEmailHandler } from './email/send-email.ts'
import { workerEnvSchema } from './env.ts'
import { DEFAULT_QUEUE, defaultHandlers } from './handlers.ts'

const env = loadEnvOrExit(workerEnvSchema)
const logger = createLogger({
  service: 'worker',
  level: env.LOG_LEVEL,
  pretty: env.LOG_PRETTY,
  version: env.APP_VERSION,
})

// Workers wait for Redis rather than fail: BullMQ needs maxRetriesPerRequest null so
// blocking commands survive reconnects.
const connection = new Redis(env.REDIS_URL, {
  maxRetriesPerRequest: null,
  connectTimeout: env.REDIS_CONNECT_TIMEOUT_MS,
  retryStrategy: (attempt) => Math.min(attempt * 500, 5_000),
})
connection.on('error', (err) => logger.warn({ err: err.message }, 'redis connection error'))

const analytics = createAnalytics({ key: env.POSTHOG_KEY, host: env.POSTHOG_HOST })

const worker = createWorker({
  queue: DEFAULT_QUEUE,
  connection,
  handlers: defaultHandlers,
  concurrency: env.WORKER_CONCURRENCY,
  logger,
  analytics,
})
const mailer = createEmailHandler(env, connection)
const emailWorker = createWorker({
  queue: EMAIL_QUEUE,
  connection,
  handlers: { [EMAIL_JOB]: mailer.handler },
  concurrency: env.WORKER_CONCURRENCY,
  logger,
  analytics,
})
worker.on('ready', () =>
  logger.info({ queue: DEFAULT_QUEUE, concurrency: env.WORKER_CONCURRENCY }, 'worker ready'),
)

let stopping = false
async function shutdown(signal: NodeJS.Signals) {
  if (stopping) {
    logger.warn({ signal }, 'second signal: exiting now')
    process.exit(1)
  }
  stopping = true
  logger.info({ signal }, 'shutting down: finishing running jobs')
  const force = setTimeout(() => {
    logger.error({ timeoutMs: env.SHUTDOWN_TIMEOUT_MS }, 'jobs did not finish in time; exiting')
    process.exit(1)
  }, env.SHUTDOWN_TIMEOUT_MS)
  force.unref()
  // close() stops fetching new jobs and resolves once the active ones have finished.
  await Promise.all([worker.close(), emailWorker.close()])
  mailer.close()
  await connection.quit().catch(() => connection.disconnect())
  await Promise.all([analytics.shutdown(), flushSentry()])
  logger.info('worker stopped')
  process.exit(0)
}
process.on('SIGTERM', shutdown)
process.on('SIGINT', shutdown)
