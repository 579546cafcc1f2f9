import { z } from 'zod'

/**
 * Transactional email, sent by the worker. Producers and the worker share this
 * definition: the payload is validated when enqueued and again when processed.
 */
export const EMAIL_QUEUE = 'email'
export const EMAIL_JOB = 'email.send'

const recipient = { to: z.email(), name: z.string().min(1).max(100) }
const link = z.url({ protocol: /^https?$/ })

export const emailJobSchema = z.discriminatedUnion('template', [
  z.object({ template: z.literal('verify-email'), ...recipient, url: link }),
  z.object({ template: z.literal('password-reset'), ...recipient, url: link }),
  z.object({
    template: z.literal('invitation'),
    ...recipient,
    url: link,
    organizationName: z.string().min(1).max(100),
    inviterName: z.string().min(1).max(100),
  }),
])

export type EmailJob = z.infer<typeof emailJobSchema>

/** Retries with exponential backoff for a flaky SMTP server; bounded retention. */
export const emailJobOptions = {
  attempts: 6,
  backoff: { type: 'exponential', delay: 2_000 },
  removeOnComplete: { age: 24 * 3_600, count: 1_000 },
  removeOnFail: { age: 7 * 24 * 3_600 },
} as const
