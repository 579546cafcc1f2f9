import { z } from 'zod'
import { defineJob } from './define-job.ts'

export const WEBHOOKS_QUEUE = 'webhooks'

/** Processes one stored incoming Stripe event (by its row id), after it was acknowledged. */
export const stripeEventJob = defineJob({
  name: 'webhooks.stripe-event',
  version: 1,
  queue: WEBHOOKS_QUEUE,
  schema: z.object({ eventRowId: z.uuid() }).strict(),
  attempts: 8,
  backoff: { type: 'exponential', delay: 2_000, jitter: 0.5 },
})
