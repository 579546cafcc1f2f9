import './instrument.ts'
import { loadEnvOrExit, metricsSettings, outboxSettings, secretsKey } from '@repo/config'
import { processStripeEvent } from '@repo/core'
import { createDatabaseClient, createDatabaseProbe, databasePool } from '@repo/db'
import { backupSettingsFromEnv } from '@repo/db/backup'
import {
  DEAD_LETTER_QUEUE,
  DEFAULT_QUEUE,
  EMAIL_JOB,
  EMAIL_QUEUE,
  MAINTENANCE_QUEUE,
  openDeadLetters,
  openQueues,
  QUEUES,
  SCHEDULES,
  stripeEventJob,
  WEBHOOK_DELIVERIES_QUEUE,
  WEBHOOKS_QUEUE,
} from '@repo/jobs'
import {
  analyticsConfigFromEnv,
  createAnalytics,
  createLogger,
  flushSentry,
  type MetricsServer,
  startMetricsServer,
} from '@repo/observability'
import { stopTracing } from '@repo/observability/tracing'
import closeWithGrace from 'close-with-grace'
import { Redis } from 'ioredis'
import { createWorker } from './create-worker.ts'
import { definedHandler } from './define-handler.ts'
import { createEmailHandler } from './email/send-email.ts'
import { workerEnvSchema } from './env.ts'
import { defaultHandlers, type JobHandler } from './handlers.ts'
import { checkDependencies, type HealthServer, startHealthServer } from './health-server.ts'
import { maintenanceHandlers } from './maintenance.ts'
import { createWorkerMetrics } from './metrics.ts'
import { createOutboxListener } from './outbox-listener.ts'
import { createOutboxRelay } from './outbox-relay.ts'
import { registerSchedules } from './schedulers.ts'
import { tenantDataHandlers } from './tenant-data.ts'
import { redisDeliverySlots } from './webhook-slots.ts'
import { webhookHandlers } from './webhooks.ts'
import { checkWorkerLogin } from './worker-login.ts'

const env = loadEnvOrExit(workerEnvSchema)
const logger = createLogger({
  service: 'worker',
  level: env.LOG_LEVEL,
  pretty: env.LOG_PRETTY,
  version: env.APP_VERSION,
  environment: env.SENTRY_ENVIRONMENT ?? env.NODE_ENV,
  allowEmails: env.LOG_EMAILS,
})

// Workers wait for Redis rather than fail: BullMQ needs maxRetriesPerRequest null so
// blocking commands survive reconnects.
const connection = new Redis(env.REDIS_URL, {
  maxRetriesPerRequest: null,
  connectTimeout: env.REDIS_CONNECT_TIMEOUT_MS,
  retryStrategy: (attempt) => Math.min(attempt * 500, 5_000),
})
connection.on('error', (err) => logger.warn({ err: err.message }, 'redis connection error'))

const analytics = createAnalytics(analyticsConfigFromEnv(env))

// The worker's login: row-level security applies as to the API, plus the outbox relay.
const db = createDatabaseClient(
  { ...env, DATABASE_URL: env.WORKER_DATABASE_URL ?? env.DATABASE_URL },
  undefined,
  logger,
)
// Probes for orchestrators and container health checks, when a port is configured.
const databaseProbe = createDatabaseProbe(env.WORKER_DATABASE_URL ?? env.DATABASE_URL)
const readinessChecks = {
  postgres: () => databaseProbe.ping(env.READINESS_TIMEOUT_MS),
  redis: async () => {
    if (connection.status !== 'ready') throw new Error(`redis is ${connection.status}`)
    await connection.ping()
  },
}
let health: HealthServer | undefined
if (env.WORKER_HEALTH_PORT !== undefined) {
  health = await startHealthServer({
    host: env.WORKER_HEALTH_HOST,
    port: env.WORKER_HEALTH_PORT,
    timeoutMs: env.READINESS_TIMEOUT_MS,
    logger,
    checks: readinessChecks,
  }).catch((err: Error) => {
    // Before any worker exists: nothing to finish, so leave at once with the reason.
    logger.fatal({ err: err.message }, 'could not start the health server')
    process.exit(1)
  })
}

// The outbox relay publishes through producers that fail fast (BullMQ's advice for
// producers): a Redis outage leaves messages in Postgres for the next poll. The metrics
// count jobs through them too: a scrape while Redis is away gets no answer, not a wait.
const producerConnection = new Redis(env.REDIS_URL, {
  enableOfflineQueue: false,
  maxRetriesPerRequest: 1,
  connectTimeout: env.REDIS_CONNECT_TIMEOUT_MS,
})
producerConnection.on('error', () => {}) // the worker connection reports outages
const producers = openQueues(producerConnection)

// Prometheus metrics on a port of their own (METRICS_ENABLED: on in production).
const metricsConfig = metricsSettings(env, env.WORKER_METRICS_PORT)
const metrics = createWorkerMetrics({
  version: env.APP_VERSION,
  commit: env.GIT_COMMIT,
  logger,
  queues: {
    names: [...Object.keys(QUEUES), DEAD_LETTER_QUEUE],
    get: (name) => producers.get(name),
    ready: () => producerConnection.status === 'ready',
  },
  db,
  readiness: () => checkDependencies(readinessChecks, env.READINESS_TIMEOUT_MS),
})
const pool = databasePool(db)
if (pool) metrics.metrics.instrumentPool(pool, 'worker')
let metricsServer: MetricsServer | undefined
if (metricsConfig.enabled) {
  metrics.metrics.collectProcessMetrics()
  metricsServer = await startMetricsServer({
    metrics: metrics.metrics,
    host: metricsConfig.host,
    port: metricsConfig.port,
    token: metricsConfig.token,
    logger,
  }).catch((err: Error) => {
    // Before any worker exists, as with the health server: leave at once with the reason.
    logger.fatal({ err: err.message }, 'could not start the metrics server')
    process.exit(1)
  })
}

const deadLetters = openDeadLetters(connection)
// Connection trouble is reported once by the connection's own listener above.
deadLetters.on('error', () => {})
const mailer = createEmailHandler(env, connection, secretsKey(env))
const webhooks = webhookHandlers({
  db,
  secretsKey: secretsKey(env),
  allowPrivateTargets: env.WEBHOOKS_ALLOW_PRIVATE_TARGETS,
  allowedPrivateTargets: env.WEBHOOKS_ALLOWED_PRIVATE_TARGETS,
  timeoutMs: env.WEBHOOK_TIMEOUT_MS,
  disableAfterFailures: env.WEBHOOK_DISABLE_AFTER_FAILURES,
  appUrl: env.APP_URL,
  circuit: {
    openAfter: env.WEBHOOK_CIRCUIT_OPEN_AFTER,
    cooldownMs: env.WEBHOOK_CIRCUIT_COOLDOWN_MS,
  },
  // One tenant's hanging endpoints hold at most its share of the delivery slots (ADR 017).
  slots: redisDeliverySlots(connection, {
    perOrganization: env.WEBHOOK_ORG_CONCURRENCY,
    perEndpoint: env.WEBHOOK_ENDPOINT_CONCURRENCY,
    holdMs: env.WEBHOOK_TIMEOUT_MS + 10_000,
  }),
  ...(metricsConfig.enabled ? { metrics } : {}),
})
// Each queue with its handlers, its concurrency and its limiter (packages/jobs/src/queues.ts).
const handlersByQueue: Record<string, Record<string, JobHandler>> = {
  [DEFAULT_QUEUE]: { ...defaultHandlers, ...tenantDataHandlers(db) },
  [EMAIL_QUEUE]: { [EMAIL_JOB]: mailer.handler },
  [MAINTENANCE_QUEUE]: maintenanceHandlers(db, {
    auditLogRetentionDays: env.AUDIT_LOG_RETENTION_DAYS,
    backup: backupSettingsFromEnv(env),
  }),
  [WEBHOOKS_QUEUE]: {
    [stripeEventJob.name]: definedHandler(stripeEventJob, (payload) =>
      processStripeEvent({ db }, payload),
    ),
    ...webhooks.events,
  },
  [WEBHOOK_DELIVERIES_QUEUE]: webhooks.deliveries,
}
const workers = Object.entries(handlersByQueue).map(([queue, handlers]) => {
  const settings = QUEUES[queue]
  const concurrency =
    queue === DEFAULT_QUEUE ? env.WORKER_CONCURRENCY : (settings?.concurrency ?? 1)
  const worker = createWorker({
    queue,
    connection,
    handlers,
    concurrency,
    ...(settings?.limiter ? { limiter: settings.limiter } : {}),
    logger,
    analytics,
    deadLetters,
    lockDurationMs: env.WORKER_LOCK_DURATION_MS,
    stalledIntervalMs: env.WORKER_STALLED_INTERVAL_MS,
    ...(metricsConfig.enabled ? { metrics } : {}),
  })
  worker.on('ready', () => logger.info({ queue, concurrency }, 'worker ready'))
  return worker
})

const outbox = outboxSettings(env)
const relay = createOutboxRelay({
  db,
  logger,
  queueFor: producers.get,
  pollMs: outbox.pollMs,
  fallbackPollMs: outbox.fallbackPollMs,
})
relay.start()
// Commits wake the relay (ADR 038): a connection of its own LISTENs for the outbox's
// trigger; the probe that proves it hears commits is sent through the relay's client.
const listener =
  outbox.listenUrl === undefined
    ? undefined
    : createOutboxListener({
        connectionString: outbox.listenUrl,
        relay,
        notify: (channel, payload) =>
          db.$queryRaw`SELECT 1 AS sent FROM pg_notify(${channel}, ${payload})`,
        logger,
      })
listener?.start()

// The wrong login would run every job but never publish the outbox: refuse it at start.
const stopCheckingLogin = checkWorkerLogin(db, logger, (reason) => {
  logger.fatal(reason)
  void refuseToRun()
})

// Cron: reconcile the declared schedules on every start (idempotent; stale ones removed).
registerSchedules(producers.get(MAINTENANCE_QUEUE), SCHEDULES, logger).catch((err) =>
  logger.error({ err }, 'could not register job schedules'),
)

/** Stops taking jobs, lets the running ones finish, closes every connection, flushes telemetry. */
async function stopEverything() {
  health?.drain()
  stopCheckingLogin()
  // close() stops fetching new jobs and resolves once the active ones have finished.
  await Promise.all([listener?.stop(), relay.stop(), ...workers.map((worker) => worker.close())])
  await producers.close()
  producerConnection.disconnect()
  await Promise.all([deadLetters.close(), db.$disconnect(), databaseProbe.close()])
  mailer.close()
  await connection.quit().catch(() => connection.disconnect())
  await Promise.all([
    analytics.shutdown(),
    flushSentry(),
    stopTracing(),
    health?.close(),
    metricsServer?.close(),
  ])
  logger.info('worker stopped')
}

// On SIGTERM/SIGINT, and on an uncaught exception or unhandled rejection too: finish the
// running jobs and flush Sentry (which has recorded the error) before exiting, 0 after a
// signal, 1 after an error. A second signal or the timeout forces the exit.
const grace = closeWithGrace(
  {
    delay: env.SHUTDOWN_TIMEOUT_MS,
    onTimeout: (ms) => logger.error({ timeoutMs: ms }, 'jobs did not finish in time; exiting'),
    onSecondSignal: (signal) => logger.warn({ signal }, 'second signal: exiting now'),
    onSecondError: (err) => logger.fatal({ err }, 'second fatal error: exiting now'),
    logger: { error: (err: unknown) => logger.error({ err }, 'shutdown failed') },
  },
  async ({ signal, err }) => {
    if (err) logger.fatal({ err }, 'shutting down after a fatal error: finishing running jobs')
    else logger.info({ signal }, 'shutting down: finishing running jobs')
    await stopEverything()
  },
)

/** For a refusal found after start (the wrong database login): stop cleanly, exit 1. */
async function refuseToRun() {
  grace.uninstall()
  await stopEverything()
  process.exit(1)
}
