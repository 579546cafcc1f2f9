import { WEBHOOK_EVENT_TYPES } from '@repo/schemas'
import { z } from 'zod'
import { defineJob } from './define-job.ts'

export const WEBHOOKS_QUEUE = 'webhooks'
/**
 * Outgoing deliveries have their own queue: a slow customer endpoint holds up other
 * deliveries at most, never incoming events or fan-out.
 */
export const WEBHOOK_DELIVERIES_QUEUE = 'webhook-deliveries'

/** Processes one stored incoming Stripe event (by its row id), after it was acknowledged. */
export const stripeEventJob = defineJob({
  name: 'webhooks.stripe-event',
  version: 1,
  queue: WEBHOOKS_QUEUE,
  schema: z.object({ eventRowId: z.uuid() }).strict(),
  attempts: 8,
  backoff: { type: 'exponential', delay: 2_000, jitter: 0.5 },
})

// Declared with the input schemas: the web app offers the same list when subscribing.
export { WEBHOOK_EVENT_TYPES, type WebhookEventType } from '@repo/schemas'

/**
 * An event as endpoints receive it (the Standard Webhooks payload: type, timestamp,
 * data), with its message id, the `webhook-id` every delivery and retry of it carries.
 */
export const webhookEventSchema = z
  .object({
    eventId: z.string().regex(/^msg_[A-Za-z0-9]{1,64}$/),
    type: z.enum(WEBHOOK_EVENT_TYPES),
    timestamp: z.iso.datetime(),
    data: z.record(z.string(), z.unknown()),
  })
  .strict()
export type WebhookEvent = z.infer<typeof webhookEventSchema>

/**
 * Fans one event out to the organization's subscribed endpoints: a delivery row each
 * (unique per endpoint and event, so a rerun adds none) and a delivery job each.
 */
export const webhookEventJob = defineJob({
  name: 'webhooks.event',
  version: 1,
  queue: WEBHOOKS_QUEUE,
  schema: webhookEventSchema,
  attempts: 8,
  backoff: { type: 'exponential', delay: 2_000, jitter: 0.5 },
})

/**
 * One delivery to one endpoint, retried with exponential backoff and jitter: ten
 * attempts over about four hours (30 s, 1 min, 2 min ... 2 h between them). Every
 * attempt is recorded; the last failure marks the delivery failed (visible through the
 * API), not a dead letter: a customer's endpoint being down is not an operator's alert.
 */
export const webhookDeliveryJob = defineJob({
  name: 'webhooks.deliver',
  version: 1,
  queue: WEBHOOK_DELIVERIES_QUEUE,
  schema: z.object({ deliveryId: z.uuid() }).strict(),
  attempts: 10,
  backoff: { type: 'exponential', delay: 30_000, jitter: 0.5 },
  // The HTTP call has its own, shorter timeout (WEBHOOK_TIMEOUT_MS) inside this one.
  timeoutMs: 60_000,
})
