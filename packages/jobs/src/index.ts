export {
  DEAD_LETTER_QUEUE,
  type DeadLetter,
  type DeadLetterQueue,
  fileDeadLetter,
  getDeadLetter,
  listDeadLetters,
  openDeadLetters,
  purgeDeadLetters,
  redactJobData,
  replayAllDeadLetters,
  replayDeadLetter,
} from './dead-letters.ts'
export {
  defineJob,
  enqueueJob,
  InvalidJobPayloadError,
  type JobContext,
  type JobDefinition,
  type JobEnvelope,
  type JobQueue,
  jobContextSchema,
  jobEnvelope,
  jobOptions,
  readJobEnvelope,
} from './define-job.ts'
export {
  EMAIL_JOB,
  EMAIL_QUEUE,
  type EmailJob,
  emailJob,
  emailJobSchema,
  emailJobV1,
} from './email.ts'
export {
  cleanupCredentialsJob,
  MAINTENANCE_QUEUE,
  nightlyBackupJob,
  pruneAuditLogJob,
  purgeIdempotencyKeysJob,
  SCHEDULES,
  type Schedule,
  sweepOutboxJob,
  sweepWebhookDeliveriesJob,
} from './maintenance.ts'
export { openQueues, type QueueRegistry } from './queue-registry.ts'
export { DEFAULT_QUEUE, QUEUES, type QueueSettings } from './queues.ts'
export { memberRemovalJob, organizationDeletionJob } from './tenant-data.ts'
export {
  stripeEventJob,
  WEBHOOK_DELIVERIES_QUEUE,
  WEBHOOK_EVENT_TYPES,
  WEBHOOKS_QUEUE,
  type WebhookEvent,
  type WebhookEventType,
  webhookDeliveryJob,
  webhookEventJob,
  webhookEventSchema,
} from './webhooks.ts'
