import { deleteExpiredCredentials, purgeExpiredIdempotencyKeys } from '@repo/core'
import type { PrismaClient } from '@repo/db'
import { cleanupCredentialsJob, nightlyBackupJob, purgeIdempotencyKeysJob } from '@repo/jobs'
import { definedHandler } from './define-handler.ts'
import type { JobHandler } from './handlers.ts'

/** Handlers of the scheduled housekeeping jobs (packages/jobs/src/maintenance.ts). */
export function maintenanceHandlers(db: PrismaClient): Record<string, JobHandler> {
  return {
    [cleanupCredentialsJob.name]: definedHandler(cleanupCredentialsJob, async (_, { logger }) => {
      const deleted = await deleteExpiredCredentials({ db })
      logger.info({ deleted }, 'expired credentials deleted')
      return deleted
    }),
    [purgeIdempotencyKeysJob.name]: definedHandler(
      purgeIdempotencyKeysJob,
      async (_, { logger }) => {
        const purged = await purgeExpiredIdempotencyKeys({ db })
        logger.info({ purged }, 'expired idempotency keys purged')
        return { purged }
      },
    ),
    // The trigger is in place; the deployment (Ship it) decides what a backup runs.
    [nightlyBackupJob.name]: definedHandler(nightlyBackupJob, async (_, { logger, job }) => {
      logger.info({ scheduledFor: new Date(job.timestamp).toISOString() }, 'backup requested')
      return { requestedAt: new Date().toISOString() }
    }),
  }
}
