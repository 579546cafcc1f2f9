import { openEmailLink } from '@repo/core'
import { emailJob, emailJobV1 } from '@repo/jobs'
import { UnrecoverableError } from 'bullmq'
import nodemailer from 'nodemailer'
import { type DefinedJobContext, definedHandler } from '../define-handler.ts'
import type { JobHandler } from '../handlers.ts'
import { type RenderableEmail, renderEmail } from './templates.ts'

export interface MailerConfig {
  SMTP_URL: string
  EMAIL_FROM: string
  SMTP_TIMEOUT_MS: number
}

/**
 * The `email.send` handler (a defined job: the payload is validated again, an invalid one
 * fails at once without retries). SMTP failures throw, and BullMQ retries with backoff.
 * Each send is recorded under the job id, so a job run again after its email went out
 * (retried, replayed from dead letters, picked up after a stall) does not send it twice.
 */
/** Where sends are recorded (Redis): a retried or replayed job finds its email sent. */
export interface SentLog {
  get(key: string): Promise<string | null>
  set(key: string, value: string, mode: 'EX', seconds: number): Promise<unknown>
}

const SENT_TTL_SECONDS = 30 * 24 * 3_600

export function createEmailHandler(
  config: MailerConfig,
  sentLog: SentLog,
  /** The key of secrets at rest, which sealed the links that carry tokens. */
  secretsKey: Buffer,
): { handler: JobHandler; close(): void } {
  // Timeouts on every stage: a silent SMTP server must not hold a worker slot forever.
  const url = new URL(config.SMTP_URL)
  url.searchParams.set('connectionTimeout', String(config.SMTP_TIMEOUT_MS))
  url.searchParams.set('greetingTimeout', String(config.SMTP_TIMEOUT_MS))
  url.searchParams.set('socketTimeout', String(config.SMTP_TIMEOUT_MS))
  const transport = nodemailer.createTransport(url.toString())
  const deliver = async (
    email: RenderableEmail,
    link: () => string,
    { job, logger }: Pick<DefinedJobContext, 'job' | 'logger'>,
  ) => {
    const sentKey = `groundwork:email:sent:${job.id}`
    const already = await sentLog.get(sentKey)
    if (already) {
      logger.info({ messageId: already }, 'email already sent; not sending again')
      return { messageId: already, alreadySent: true }
    }
    const { subject, text, html } = renderEmail(email, link())
    const domain = config.EMAIL_FROM.match(/@([^>\s]+)/)?.[1] ?? 'groundwork.dev'
    const info = await transport.sendMail({
      from: config.EMAIL_FROM,
      to: { name: email.name, address: email.to },
      subject,
      text,
      html,
      messageId: `<${job.id}@${domain}>`,
    })
    // Recorded right after the server accepted it. A crash in between can still send it
    // twice; the Message-ID, derived from the job id, lets receivers drop the duplicate.
    await sentLog.set(sentKey, info.messageId, 'EX', SENT_TTL_SECONDS)
    logger.info({ template: email.template, messageId: info.messageId }, 'email sent')
    return { messageId: info.messageId }
  }
  const current = definedHandler(emailJob, (email, context) =>
    deliver(
      email,
      () => {
        if (!('sealedUrl' in email)) return email.url
        try {
          return openEmailLink(email.sealedUrl, secretsKey)
        } catch {
          // Sealed with another key (rotated, or another environment's): no retry helps.
          throw new UnrecoverableError('the email link cannot be opened with this secrets key')
        }
      },
      context,
    ),
  )
  // Emails queued before a deploy brought version 2 (links in the clear) are still sent.
  const legacy = definedHandler(emailJobV1, (email, context) =>
    deliver(email, () => email.url, context),
  )
  const handler: JobHandler = (job, context) =>
    (job.data as { v?: unknown } | undefined)?.v === emailJobV1.version
      ? legacy(job, context)
      : current(job, context)
  return { handler, close: () => transport.close() }
}
