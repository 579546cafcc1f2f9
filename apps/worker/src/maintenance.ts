import {
  deleteExpiredCredentials,
  pruneAuditLog,
  purgeExpiredIdempotencyKeys,
  sweepOutbox,
  sweepWebhookDeliveries,
} from '@repo/core'
import type { PrismaClient } from '@repo/db'
import {
  cleanupCredentialsJob,
  nightlyBackupJob,
  pruneAuditLogJob,
  purgeIdempotencyKeysJob,
  sweepOutboxJob,
  sweepWebhookDeliveriesJob,
} from '@repo/jobs'
import { definedHandler } from './define-handler.ts'
import type { JobHandler } from './handlers.ts'

/** Handlers of the scheduled housekeeping jobs (packages/jobs/src/maintenance.ts). */
export function maintenanceHandlers(
  db: PrismaClient,
  settings: { auditLogRetentionDays: number },
): Record<string, JobHandler> {
  return {
    [pruneAuditLogJob.name]: definedHandler(pruneAuditLogJob, async (_, { logger }) => {
      const pruned = await pruneAuditLog({ db }, { keepDays: settings.auditLogRetentionDays })
      logger.info({ ...pruned, keepDays: settings.auditLogRetentionDays }, 'audit log pruned')
      return pruned
    }),
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
    [sweepOutboxJob.name]: definedHandler(sweepOutboxJob, async (_, { logger }) => {
      const swept = await sweepOutbox({ db }, { keepHours: 7 * 24, stuckSeconds: 300 })
      // Messages older than five minutes still unpublished: the relay is down or failing.
      if (swept.stuck > 0) logger.error({ stuck: swept.stuck }, 'outbox backlog is not clearing')
      else logger.info(swept, 'outbox swept')
      return swept
    }),
    [sweepWebhookDeliveriesJob.name]: definedHandler(
      sweepWebhookDeliveriesJob,
      async (_, { logger }) => {
        // Retries span about four hours; three days leaves room for a worker outage.
        const swept = await sweepWebhookDeliveries({ db }, { keepDays: 30, stuckHours: 72 })
        // A delivery pending three days after it was queued lost its job (a dead letter, a Redis loss).
        if (swept.expired > 0)
          logger.warn(
            { expired: swept.expired },
            'webhook deliveries marked failed: their jobs were lost',
          )
        else logger.info(swept, 'webhook deliveries swept')
        return swept
      },
    ),
    // The trigger is in place; the deployment (Ship it) decides what a backup runs.
    [nightlyBackupJob.name]: definedHandler(nightlyBackupJob, async (_, { logger, job }) => {
      logger.info({ scheduledFor: new Date(job.timestamp).toISOString() }, 'backup requested')
      return { requestedAt: new Date().toISOString() }
    }),
  }
}
