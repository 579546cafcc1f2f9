import { type Analytics, createAnalytics, type Logger, Sentry } from '@repo/observability'
import { type ConnectionOptions, UnrecoverableError, Worker } from 'bullmq'
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
}

/** A BullMQ worker that dispatches jobs by name and logs each job's outcome. */
export function createWorker(options: CreateWorkerOptions): Worker {
  const { logger } = options
  const analytics = options.analytics ?? createAnalytics({})
  const worker = new Worker(
    options.queue,
    async (job) => {
      const handler = options.handlers[job.name]
      // A job nobody can process will never succeed: fail it now, without retries.
      if (!handler) throw new UnrecoverableError(`no handler for job "${job.name}"`)
      return handler(job, { logger: logger.child({ jobId: job.id, job: job.name }), analytics })
    },
    {
      connection: options.connection,
      concurrency: options.concurrency,
      ...(options.prefix ? { prefix: options.prefix } : {}),
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
      },
      'job completed',
    ),
  )
  worker.on('failed', (job, err) => {
    logger.error({ jobId: job?.id, job: job?.name, attempt: job?.attemptsMade, err }, 'job failed')
    Sentry.captureException(err, { tags: { queue: options.queue, job: job?.name } })
  })
  worker.on('error', (err) => logger.error({ err }, 'worker error'))
  return worker
}
