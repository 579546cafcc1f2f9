import { z } from 'zod'
import { defineJob } from './define-job.ts'

/** Housekeeping the worker runs on a schedule: one at a time, on a queue of its own. */
export const MAINTENANCE_QUEUE = 'maintenance'

const nothing = z.object({}).strict()
// Scheduled work is redone on the next run anyway: few retries, short retention.
const housekeeping = {
  version: 1,
  queue: MAINTENANCE_QUEUE,
  schema: nothing,
  attempts: 3,
  timeoutMs: 5 * 60_000,
  keep: { completed: { age: 7 * 24 * 3_600, count: 200 }, failed: { age: 30 * 24 * 3_600 } },
}

export const cleanupCredentialsJob = defineJob({
  ...housekeeping,
  name: 'maintenance.cleanup-credentials',
})
export const purgeIdempotencyKeysJob = defineJob({
  ...housekeeping,
  name: 'maintenance.purge-idempotency-keys',
})
/** Deletes old published outbox messages, and alerts on a backlog the relay is not clearing. */
export const sweepOutboxJob = defineJob({ ...housekeeping, name: 'maintenance.sweep-outbox' })
/**
 * The webhook delivery log: finished deliveries older than 30 days go; a delivery still
 * pending three days after it was last queued (its job was lost) is marked failed.
 */
export const sweepWebhookDeliveriesJob = defineJob({
  ...housekeeping,
  name: 'maintenance.sweep-webhook-deliveries',
})

/** The audit log's retention: entries older than AUDIT_LOG_RETENTION_DAYS go. */
export const pruneAuditLogJob = defineJob({ ...housekeeping, name: 'maintenance.prune-audit-log' })

/**
 * Last night's backup: pg_dump to BACKUP_DESTINATION, then retention (packages/db/src/backup).
 * A dump takes as long as the database is big: hours allowed, and a failed attempt (the
 * database or the store briefly down) is retried minutes later, not seconds.
 */
export const nightlyBackupJob = defineJob({
  ...housekeeping,
  name: 'maintenance.nightly-backup',
  timeoutMs: 3 * 3_600_000,
  backoff: { type: 'exponential', delay: 5 * 60_000, jitter: 0.5 },
})

export interface Schedule {
  /** Stable id: registration upserts by it; an id no longer declared is removed. */
  id: string
  /** Cron pattern, evaluated in UTC. */
  pattern: string
  job: ReturnType<typeof defineJob<typeof nothing>>
}

/** Every scheduled job. Change this list; the worker reconciles Redis with it on start. */
export const SCHEDULES: Schedule[] = [
  { id: 'cleanup-credentials', pattern: '5 * * * *', job: cleanupCredentialsJob },
  { id: 'purge-idempotency-keys', pattern: '15 * * * *', job: purgeIdempotencyKeysJob },
  { id: 'sweep-outbox', pattern: '*/10 * * * *', job: sweepOutboxJob },
  { id: 'sweep-webhook-deliveries', pattern: '45 3 * * *', job: sweepWebhookDeliveriesJob },
  { id: 'nightly-backup', pattern: '30 2 * * *', job: nightlyBackupJob },
  { id: 'prune-audit-log', pattern: '15 4 * * *', job: pruneAuditLogJob },
]
