import { type DeadLetterQueue, fileDeadLetter } from '@repo/jobs'
import { type Analytics, createAnalytics, type Logger, Sentry } from '@repo/observability'
import { queueTelemetry } from '@repo/observability/tracing'
import { type ConnectionOptions, DelayedError, type Job, UnrecoverableError, Worker } from 'bullmq'
import type { JobHandler } from './handlers.ts'

export interface CreateWorkerOptions {
  queue: string
  connection: ConnectionOptions
  handlers: Record<string, JobHandler>
  concurrency: number
  logger: Logger
  /** Product analytics for handlers; inactive when omitted. */
  analytics?: Analytics
  /** BullMQ key prefix; tests and multi-tenant deployments isolate queues with it. */
  prefix?: string
  /** At most `max` jobs per `duration` ms, across every worker of this queue. */
  limiter?: { max: number; duration: number }
  /** Where jobs that failed for good are filed; without it they only stay in `failed`. */
  deadLetters?: DeadLetterQueue
  /** false: start later with `worker.run()` (benchmarks queue their work first). */
  autorun?: boolean
  /** Lock and stalled-check timing (BullMQ's defaults: 30 s each). */
  lockDurationMs?: number
  stalledIntervalMs?: number
}

/** The organization and request a job runs for, for its log lines. */
function contextOf(job: Job) {
  const context = (job.data as { context?: Record<string, unknown> } | undefined)?.context
  return context && typeof context === 'object'
    ? { organizationId: context.organizationId, requestId: context.requestId }
    : {}
}

/** A failure that retries cannot fix, or the last attempt: the job will not run again. */
function isFinal(job: Job, error: unknown) {
  // A handler that deferred its job (moveToDelayed) did not fail: the attempt runs later.
  if (error instanceof DelayedError || (error as Error)?.name === 'DelayedError') return false
  if (error instanceof UnrecoverableError || (error as Error)?.name === 'UnrecoverableError')
    return true
  return job.attemptsMade + 1 >= (job.opts.attempts ?? 1)
}

/** A BullMQ worker that dispatches jobs by name and logs each job's outcome. */
export function createWorker(options: CreateWorkerOptions): Worker {
  const { logger } = options
  const analytics = options.analytics ?? createAnalytics({})
  async function fileFinalFailure(job: Job, error: unknown) {
    const deadLetters = options.deadLetters
    if (!deadLetters) return
    try {
      const { id, filed, total } = await fileDeadLetter(
        deadLetters,
        options.queue,
        job,
        error instanceof Error ? error : new Error(String(error)),
      )
      if (!filed) return
      // The alert: an error log (and a Sentry event) each time the pile grows.
      logger.error(
        {
          deadLetterId: id,
          deadLetters: total,
          queue: options.queue,
          job: job.name,
          ...contextOf(job),
        },
        'job moved to dead letters',
      )
      Sentry.captureMessage('job moved to dead letters', {
        level: 'error',
        tags: { queue: options.queue, job: job.name },
        extra: { deadLetterId: id, deadLetters: total },
      })
    } catch (filingError) {
      // Never instead of the job's own error: BullMQ must still see that one.
      logger.error({ err: filingError, jobId: job.id }, 'could not file a dead letter')
    }
  }

  const telemetry = queueTelemetry()
  const worker = new Worker(
    options.queue,
    async (job, token) => {
      try {
        const handler = options.handlers[job.name]
        // A job nobody can process will never succeed: fail it now, without retries.
        if (!handler) throw new UnrecoverableError(`no handler for job "${job.name}"`)
        const bindings = { jobId: job.id, job: job.name }
        let child: Logger | undefined
        return await handler(job, {
          get logger() {
            child ??= logger.child(bindings)
            return child
          },
          analytics,
          bindings,
          rootLogger: logger,
          token,
        })
      } catch (error) {
        // Filed before BullMQ marks the job failed, so no final failure goes unfiled.
        if (options.deadLetters && isFinal(job, error)) await fileFinalFailure(job, error)
        throw error
      }
    },
    {
      connection: options.connection,
      concurrency: options.concurrency,
      ...(options.limiter ? { limiter: options.limiter } : {}),
      ...(options.autorun === false ? { autorun: false } : {}),
      ...(options.lockDurationMs ? { lockDuration: options.lockDurationMs } : {}),
      ...(options.stalledIntervalMs ? { stalledInterval: options.stalledIntervalMs } : {}),
      ...(options.prefix ? { prefix: options.prefix } : {}),
      // With tracing on, each job is processed in a span that continues the trace of
      // whatever added it (for outbox jobs: the request that wrote the row).
      ...(telemetry ? { telemetry } : {}),
    },
  )

  worker.on('active', (job) =>
    logger.debug({ jobId: job.id, job: job.name, attempt: job.attemptsMade + 1 }, 'job started'),
  )
  worker.on('completed', (job) =>
    logger.info(
      {
        jobId: job.id,
        job: job.name,
        durationMs: (job.finishedOn ?? Date.now()) - (job.processedOn ?? Date.now()),
        ...contextOf(job),
      },
      'job completed',
    ),
  )
  // Failures decided outside the processor (a job that stalled too often: its worker
  // died running it) reach only this event; file those too, once the job has failed.
  worker.on('failed', (job, err) => {
    if (job && options.deadLetters)
      void job.isFailed().then((failed) => (failed ? fileFinalFailure(job, err) : undefined))
    logger.error(
      {
        jobId: job?.id,
        job: job?.name,
        attempt: job?.attemptsMade,
        err,
        ...(job ? contextOf(job) : {}),
      },
      'job failed',
    )
    Sentry.captureException(err, { tags: { queue: options.queue, job: job?.name } })
  })
  worker.on('error', (err) => logger.error({ err }, 'worker error'))
  return worker
}
