import type { Analytics, Logger } from '@repo/observability'
import type { Job } from 'bullmq'

/** What every handler gets besides its job: the job's logger and product analytics. */
export interface JobContext {
  /** The worker's logger bound to the job (made on first use). */
  logger: Logger
  analytics: Analytics
  /** What `logger` binds, for a handler that binds more (one child logger, not two). */
  bindings: Record<string, unknown>
  rootLogger: Logger
  /** The worker's lock on the job: a handler that defers its job (moveToDelayed) passes it. */
  token?: string | undefined
}

export type JobHandler = (job: Job, context: JobContext) => Promise<unknown>

/**
 * Job handlers by job name. `system.ping` lets operators and tests prove end to end that
 * a worker is consuming the queue (enqueue it, await its result); `{ workMs }` (at most a
 * minute) makes it hold its slot that long, to watch capacity and recovery.
 */
export const defaultHandlers: Record<string, JobHandler> = {
  'system.ping': async (job) => {
    const workMs = Math.min(Math.max(Number(job.data?.workMs) || 0, 0), 60_000)
    if (workMs) await new Promise((resolve) => setTimeout(resolve, workMs))
    return { pong: true, jobId: job.id, processedAt: new Date().toISOString() }
  },
}

export { DEFAULT_QUEUE } from '@repo/jobs'
