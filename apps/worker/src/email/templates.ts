import type { EmailJob, emailJobV1 } from '@repo/jobs'
import type { z } from 'zod'

export interface RenderedEmail {
  subject: string
  text: string
  html: string
}

const escapeHtml = (value: string) =>
  value.replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] as string,
  )

/** One layout for every message: a greeting, a paragraph, a button, a fallback link. */
function layout(input: {
  greeting: string
  body: string
  action: string
  url: string
  footer: string
}): Pick<RenderedEmail, 'text' | 'html'> {
  const text = `${input.greeting}\n\n${input.body}\n\n${input.action}: ${input.url}\n\n${input.footer}\n`
  const html = `<!doctype html><html><body style="font-family:system-ui,sans-serif;color:#14161a;max-width:560px;margin:0 auto;padding:24px">
<p>${escapeHtml(input.greeting)}</p>
<p>${escapeHtml(input.body)}</p>
<p><a href="${escapeHtml(input.url)}" style="display:inline-block;background:#2f6f4e;color:#fff;padding:10px 18px;border-radius:6px;text-decoration:none">${escapeHtml(input.action)}</a></p>
<p style="color:#5a6270;font-size:13px">Or open this link: ${escapeHtml(input.url)}</p>
<p style="color:#5a6270;font-size:13px">${escapeHtml(input.footer)}</p>
</body></html>`
  return { text, html }
}

/** An email job's payload, of the current version or the one before. */
export type RenderableEmail = EmailJob | z.infer<typeof emailJobV1.schema>

/**
 * Text and HTML bodies for each template, with `url` (the job's link, opened if it was
 * sealed). Every value is escaped in the HTML part.
 */
export function renderEmail(job: RenderableEmail, url: string): RenderedEmail {
  switch (job.template) {
    case 'verify-email':
      return {
        subject: 'Confirm your email address',
        ...layout({
          greeting: `Hi ${job.name},`,
          body: 'Confirm that this is your email address to finish setting up your account. The link works once and expires in 24 hours.',
          action: 'Confirm email',
          url,
          footer: "If you didn't create an account, ignore this message.",
        }),
      }
    case 'password-reset':
      return {
        subject: 'Reset your password',
        ...layout({
          greeting: `Hi ${job.name},`,
          body: 'Someone asked to reset the password of your account. The link works once and expires in 1 hour; using it signs you out everywhere.',
          action: 'Choose a new password',
          url,
          footer: "If it wasn't you, ignore this message: your password stays as it is.",
        }),
      }
    case 'invitation':
      return {
        // A fixed subject: what users typed (names) stays in the body, escaped, never in
        // the header where it would pose as the sender's own words.
        subject: 'You are invited to join a team on Groundwork',
        ...layout({
          greeting: `Hi ${job.name},`,
          body: `${job.inviterName} invited you to join ${job.organizationName}. The invitation works once and expires in 7 days.`,
          action: 'Accept the invitation',
          url,
          footer: 'If you did not expect this invitation, ignore this message.',
        }),
      }
    case 'webhook-endpoint-disabled':
      return {
        subject: 'A webhook endpoint was disabled',
        ...layout({
          greeting: `Hi ${job.name},`,
          body: `Deliveries to ${job.endpointUrl} failed ${job.failures} times in a row, so it no longer receives events from ${job.organizationName}. Fix the endpoint, then enable it again; events from while it was disabled are not sent.`,
          action: 'Review the endpoint',
          url,
          footer: 'You receive this because you administer the organization.',
        }),
      }
  }
}
