import { type DeadLetterQueue, fileDeadLetter } from '@repo/jobs'
import {
  type Analytics,
  captureError,
  createAnalytics,
  type Logger,
  runWithLogContext,
} from '@repo/observability'
import { queueTelemetry } from '@repo/observability/tracing'
import { type ConnectionOptions, DelayedError, type Job, UnrecoverableError, Worker } from 'bullmq'
import type { JobHandler } from './handlers.ts'
import type { JobMetrics, JobOutcome } from './metrics.ts'

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
  /** Records each attempt's duration and outcome (job_duration_seconds). */
  metrics?: Pick<JobMetrics, 'jobFinished'>
}

/** The job_name of jobs no handler knows: their names come from whoever enqueued them. */
export const UNKNOWN_JOB = '__unknown__'

/** The organization and request a job runs for, for its log lines. */
function contextOf(job: Job): { organizationId?: string; requestId?: string } {
  const context = (job.data as { context?: Record<string, unknown> } | undefined)?.context
  if (!context || typeof context !== 'object') return {}
  const text = (value: unknown) => (typeof value === 'string' ? value.slice(0, 200) : undefined)
  const organizationId = text(context.organizationId)
  const requestId = text(context.requestId)
  return {
    ...(organizationId ? { organizationId } : {}),
    ...(requestId ? { requestId } : {}),
  }
}

/** A handler that deferred its job (moveToDelayed) did not fail: the attempt runs later. */
const isDeferral = (error: unknown) =>
  error instanceof DelayedError || (error as Error)?.name === 'DelayedError'

const text = (value: unknown) => (typeof value === 'string' ? value : undefined)

/**
 * A job that failed for good, to Sentry: once per job, never per attempt (a retried
 * failure is the retry policy working). Carries the queue, the job's name and the ids of
 * the organization, request and trace it ran for.
 */
function reportFinalFailure(
  queue: string,
  job: Job,
  error: unknown,
  extra: Record<string, unknown>,
) {
  const carried = (job.data as { context?: Record<string, unknown> } | undefined)?.context ?? {}
  captureError(error, {
    organizationId: text(carried.organizationId),
    requestId: text(carried.requestId),
    tags: {
      queue,
      job: job.name,
      origin_trace_id: text(carried.traceId),
    },
    extra: { jobId: job.id, ...extra },
  })
}

/** A failure that retries cannot fix, or the last attempt: the job will not run again. */
function isFinal(job: Job, error: unknown) {
  if (isDeferral(error)) return false
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
      // Only the call that filed it reports it: a second filing attempt (the failed
      // event after the processor's own) finds the entry and stays quiet.
      reportFinalFailure(options.queue, job, error, { deadLetterId: id, deadLetters: total })
    } catch (filingError) {
      // Never instead of the job's own error: BullMQ must still see that one.
      logger.error({ err: filingError, jobId: job.id }, 'could not file a dead letter')
    }
  }

  /** Jobs whose attempt this process timed; others that fail (stalled ones) are timed below. */
  const timed = new WeakSet<Job>()
  const record = (job: Job, outcome: JobOutcome, seconds: number) => {
    timed.add(job)
    options.metrics?.jobFinished(
      options.queue,
      options.handlers[job.name] ? job.name : UNKNOWN_JOB,
      outcome,
      seconds,
    )
  }

  const telemetry = queueTelemetry()
  const worker = new Worker(
    options.queue,
    // Every line the attempt writes (handler, core functions) carries the request id and
    // organization the job was made for, from its tenant data (ADR 031).
    (job, token) =>
      runWithLogContext(contextOf(job), async () => {
        const started = performance.now()
        const seconds = () => (performance.now() - started) / 1_000
        try {
          const handler = options.handlers[job.name]
          // A job nobody can process will never succeed: fail it now, without retries.
          if (!handler) throw new UnrecoverableError(`no handler for job "${job.name}"`)
          const bindings = { jobId: job.id, job: job.name }
          let child: Logger | undefined
          const result = await handler(job, {
            get logger() {
              child ??= logger.child(bindings)
              return child
            },
            analytics,
            bindings,
            rootLogger: logger,
            token,
          })
          record(job, 'completed', seconds())
          return result
        } catch (error) {
          const final = isFinal(job, error)
          if (!isDeferral(error)) record(job, final ? 'dead_letter' : 'failed', seconds())
          // Filed before BullMQ marks the job failed, so no final failure goes unfiled.
          if (options.deadLetters && final) await fileFinalFailure(job, error)
          throw error
        }
      }),
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
    const untimed = job && options.metrics && !timed.has(job)
    // Final failures reach Sentry once: through filing with dead letters, or without them
    // here, once BullMQ has marked the job failed for good.
    if (job)
      void job
        .isFailed()
        .then((failed) => {
          if (!failed) return
          if (untimed) {
            const ms = (job.finishedOn ?? Date.now()) - (job.processedOn ?? Date.now())
            record(job, 'dead_letter', Math.max(0, ms) / 1_000)
          }
          if (options.deadLetters) return fileFinalFailure(job, err)
          reportFinalFailure(options.queue, job, err, {})
        })
        .catch((checkError: unknown) =>
          logger.warn({ err: checkError, jobId: job.id }, 'could not read a failed job'),
        )
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
  })
  worker.on('error', (err) => logger.error({ err }, 'worker error'))
  return worker
}
