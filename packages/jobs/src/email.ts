import { z } from 'zod'
import { defineJob } from './define-job.ts'

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
  z.object({
    template: z.literal('webhook-endpoint-disabled'),
    ...recipient,
    url: link,
    organizationName: z.string().min(1).max(100),
    endpointUrl: z.string().min(1).max(2000),
    failures: z.number().int().positive(),
  }),
])

export type EmailJob = z.infer<typeof emailJobSchema>

/**
 * The email job: retried with backoff for a flaky SMTP server (six attempts over about
 * two minutes), each attempt bounded (SMTP has its own timeouts inside this one).
 */
export const emailJob = defineJob({
  name: EMAIL_JOB,
  version: 1,
  queue: EMAIL_QUEUE,
  schema: emailJobSchema,
  attempts: 6,
  backoff: { type: 'exponential', delay: 2_000, jitter: 0.5 },
  timeoutMs: 60_000,
})
