import { finishMemberRemoval, purgeOrganization } from '@repo/core'
import type { PrismaClient } from '@repo/db'
import { memberRemovalJob, organizationDeletionJob } from '@repo/jobs'
import { DelayedError, type Job, UnrecoverableError } from 'bullmq'
import { definedHandler } from './define-handler.ts'
import type { JobHandler } from './handlers.ts'

export interface TenantDataOptions {
  /** Rows deleted per transaction when emptying an organization. */
  batchSize?: number
  /** How long one turn of a job works before it queues itself again (well under its timeout). */
  turnMs?: number
}

/**
 * Handlers of the batched tenant-data jobs (organization deletion, member removal). Each
 * turn works for `turnMs`, then puts its job back in the queue to go on where it stopped:
 * no turn nears the job's timeout however large the tenant, and no retry is used for it.
 */
export function tenantDataHandlers(
  db: PrismaClient,
  options: TenantDataOptions = {},
): Record<string, JobHandler> {
  const turnMs = options.turnMs ?? 60_000
  const organizationOf = (origin: { organizationId?: string | undefined }) => {
    if (!origin.organizationId) throw new UnrecoverableError('the job carries no organization')
    return origin.organizationId
  }
  const stopper = (signal: AbortSignal) => {
    const until = Date.now() + turnMs
    return () => signal.aborted || Date.now() >= until
  }
  const continueLater = async (job: Job, token: string | undefined) => {
    await job.moveToDelayed(Date.now(), token)
    throw new DelayedError()
  }
  return {
    [organizationDeletionJob.name]: definedHandler(
      organizationDeletionJob,
      async ({ requestedBy }, { origin, signal, job, token, logger }) => {
        const organizationId = organizationOf(origin)
        const result = await purgeOrganization(
          { db },
          { organizationId, requestedBy },
          { batchSize: options.batchSize ?? 5_000, shouldStop: stopper(signal) },
        )
        logger.info(
          { ...result },
          result.done ? 'organization deleted' : 'organization deletion continues',
        )
        if (!result.done) await continueLater(job, token)
        return result
      },
    ),
    [memberRemovalJob.name]: definedHandler(
      memberRemovalJob,
      async ({ userId }, { origin, signal, job, token, logger }) => {
        const result = await finishMemberRemoval(
          { db },
          { organizationId: organizationOf(origin), userId },
          { shouldStop: stopper(signal) },
        )
        logger.info(
          { userId, ...result },
          result.done ? 'member removed' : 'member removal continues',
        )
        if (!result.done) await continueLater(job, token)
        return result
      },
    ),
  }
}
