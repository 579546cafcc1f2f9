import {
  deleteExpiredCredentials,
  pruneAuditLog,
  purgeExpiredIdempotencyKeys,
  sweepOutbox,
  sweepWebhookDeliveries,
} from '@repo/core'
import type { PrismaClient } from '@repo/db'
import { type BackupOptions, runBackup } from '@repo/db/backup'
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
  settings: {
    auditLogRetentionDays: number
    /** From BACKUP_* (backupSettingsFromEnv); unset: no destination is configured. */
    backup?: Omit<BackupOptions, 'signal'> | undefined
  },
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
    // Unconfigured, the job succeeds without work but says so every night at warn level:
    // failing forever would bury real failures in dead letters, and silence would look
    // like backups. A configured backup that fails is retried, then a dead letter.
    [nightlyBackupJob.name]: definedHandler(nightlyBackupJob, async (_, { logger, signal }) => {
      if (!settings.backup) {
        logger.warn(
          'nightly backup skipped: BACKUP_DESTINATION is not set, so no backup was made (see docs/runbooks/backup-and-restore.md)',
        )
        return { skipped: true, reason: 'BACKUP_DESTINATION is not set' }
      }
      const result = await runBackup({ ...settings.backup, signal })
      const { deleted, retentionError, ...made } = result
      logger.info({ ...made, deletedByRetention: deleted }, 'nightly backup made')
      if (retentionError)
        logger.warn(
          { err: retentionError },
          'nightly backup made, but old backups could not be deleted',
        )
      return result
    }),
  }
}
