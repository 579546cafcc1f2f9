import { type EmailJob, emailJobSchema } from '@repo/jobs'
import { UnrecoverableError } from 'bullmq'
import nodemailer from 'nodemailer'
import type { JobHandler } from '../handlers.ts'
import { renderEmail } from './templates.ts'

export interface MailerConfig {
  SMTP_URL: string
  EMAIL_FROM: string
  SMTP_TIMEOUT_MS: number
}

/**
 * The `email.send` handler. The payload is validated again here: an invalid one can never
 * succeed, so it fails at once without retries. SMTP failures throw, and BullMQ retries
 * with backoff. The Message-ID derives from the job id, so a retried delivery is
 * recognisable as the same message by the receiving server.
 */
export function createEmailHandler(config: MailerConfig): { handler: JobHandler; close(): void } {
  // Timeouts on every stage: a silent SMTP server must not hold a worker slot forever.
  const url = new URL(config.SMTP_URL)
  url.searchParams.set('connectionTimeout', String(config.SMTP_TIMEOUT_MS))
  url.searchParams.set('greetingTimeout', String(config.SMTP_TIMEOUT_MS))
  url.searchParams.set('socketTimeout', String(config.SMTP_TIMEOUT_MS))
  const transport = nodemailer.createTransport(url.toString())
  const handler: JobHandler = async (job, { logger }) => {
    const parsed = emailJobSchema.safeParse(job.data)
    if (!parsed.success) {
      throw new UnrecoverableError(
        `invalid email payload: ${parsed.error.issues.map((i) => i.path.join('.')).join(', ')}`,
      )
    }
    const email: EmailJob = parsed.data
    const { subject, text, html } = renderEmail(email)
    const domain = config.EMAIL_FROM.match(/@([^>\s]+)/)?.[1] ?? 'groundwork.dev'
    const info = await transport.sendMail({
      from: config.EMAIL_FROM,
      to: { name: email.name, address: email.to },
      subject,
      text,
      html,
      messageId: `<${job.id}@${domain}>`,
    })
    logger.info({ template: email.template, messageId: info.messageId }, 'email sent')
    return { messageId: info.messageId }
  }
  return { handler, close: () => transport.close() }
}
