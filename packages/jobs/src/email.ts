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
/**
 * A link that carries a single-use token (verification, reset, invitation), sealed with
 * the key of secrets at rest (`sealEmailLink` in @repo/core): the queue, its dead letters
 * and the outbox never hold a usable token. Only the worker opens it, to send the email.
 */
const sealedLink = z
  .string()
  .min(40)
  .max(8_000)
  .regex(/^[A-Za-z0-9_-]+$/, 'must be a sealed link')

/** The templates, with `tokenLink` as the field of the links that carry a token. */
function templates<T extends z.ZodRawShape>(tokenLink: T) {
  return z.discriminatedUnion('template', [
    z.object({ template: z.literal('verify-email'), ...recipient, ...tokenLink }),
    z.object({ template: z.literal('password-reset'), ...recipient, ...tokenLink }),
    z.object({
      template: z.literal('invitation'),
      ...recipient,
      ...tokenLink,
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
}

export const emailJobSchema = templates({ sealedUrl: sealedLink })

export type EmailJob = z.infer<typeof emailJobSchema>

/** Templates a user is waiting for, sent before the others. */
const TRANSACTIONAL = new Set<EmailJob['template']>(['verify-email', 'password-reset'])

/**
 * The email job: retried with backoff for a flaky SMTP server (six attempts over about
 * two minutes), each attempt bounded (SMTP has its own timeouts inside this one).
 */
export const emailJob = defineJob({
  name: EMAIL_JOB,
  // 2: links with tokens travel sealed (sealedUrl instead of url).
  version: 2,
  queue: EMAIL_QUEUE,
  schema: emailJobSchema,
  attempts: 6,
  backoff: { type: 'exponential', delay: 2_000, jitter: 0.5 },
  timeoutMs: 60_000,
  // Someone is waiting for these (verification, reset): they pass bulk mail (invitations,
  // notices) on the shared queue, so one tenant's burst never delays another's sign-in.
  priority: (email) => (TRANSACTIONAL.has(email.template) ? 1 : 10),
})

/**
 * Version 1 of the email job (links in the clear), still read by the worker so that
 * emails queued or waiting in the outbox when a deploy brings version 2 are sent, not
 * dead-lettered. Producers never write it. Remove it one release after version 2.
 */
export const emailJobV1 = defineJob({
  ...emailJob,
  version: 1,
  schema: templates({ url: link }),
  priority: undefined,
})
