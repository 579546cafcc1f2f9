import { EMAIL_QUEUE } from './email.ts'
import { MAINTENANCE_QUEUE } from './maintenance.ts'
import { WEBHOOK_DELIVERIES_QUEUE, WEBHOOKS_QUEUE } from './webhooks.ts'

/**
 * Every queue the worker consumes, each with its own concurrency (jobs at once per worker
 * process) and, where a downstream has a rate, a limiter (at most `max` jobs per
 * `duration` ms across all workers, counted in Redis by BullMQ).
 */
export interface QueueSettings {
  concurrency: number
  limiter?: { max: number; duration: number }
}

export const DEFAULT_QUEUE = 'default'

export const QUEUES: Record<string, QueueSettings> = {
  [DEFAULT_QUEUE]: { concurrency: 5 },
  // SMTP providers throttle: ten messages a second, whatever the backlog.
  [EMAIL_QUEUE]: { concurrency: 5, limiter: { max: 10, duration: 1_000 } },
  // Housekeeping: one job at a time is plenty, and keeps clean-ups from competing.
  [MAINTENANCE_QUEUE]: { concurrency: 1 },
  [WEBHOOKS_QUEUE]: { concurrency: 5 },
  // Mostly waiting on other people's servers (each call bounded by WEBHOOK_TIMEOUT_MS).
  [WEBHOOK_DELIVERIES_QUEUE]: { concurrency: 10 },
}
