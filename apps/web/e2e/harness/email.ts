import { type ReceivedEmail, type SmtpSink, waitUntil } from '@repo/testing'

/** Emails waitForEmail has returned, per sink: each call waits for a new one. */
const returned = new WeakMap<SmtpSink, Set<ReceivedEmail>>()

/**
 * The next email to `to` (and with `subject` in its subject, or matching it) that no
 * earlier call returned: a second password reset waits for the second email, not the
 * first again. Fails after `timeoutMs` listing what did arrive.
 */
export async function waitForEmail(
  smtp: SmtpSink,
  {
    to,
    subject,
    timeoutMs = 15_000,
  }: { to: string; subject?: string | RegExp; timeoutMs?: number },
): Promise<ReceivedEmail> {
  const seen = returned.get(smtp) ?? new Set()
  returned.set(smtp, seen)
  const matches = (email: ReceivedEmail) =>
    !seen.has(email) &&
    email.to.some((address) => address.toLowerCase() === to.toLowerCase()) &&
    (subject === undefined ||
      (typeof subject === 'string' ? email.subject.includes(subject) : subject.test(email.subject)))
  let found: ReceivedEmail | undefined
  await waitUntil(
    () => {
      found = smtp.messages.find(matches)
      return found !== undefined
    },
    {
      what: `an email to ${to}${subject === undefined ? '' : ` about ${subject}`}`,
      timeoutMs,
      intervalMs: 50,
      detail: () =>
        smtp.messages.length === 0
          ? 'no email arrived at all: is the worker running (startStack without `worker: false`)?'
          : `what arrived:\n${smtp.messages.map((email) => `- to ${email.to.join(', ')}: ${email.subject}`).join('\n')}`,
    },
  )
  // waitUntil returned, so the check found one.
  const email = found as ReceivedEmail
  seen.add(email)
  return email
}

const ENTITIES: Record<string, string> = {
  '&amp;': '&',
  '&quot;': '"',
  '&#39;': "'",
  '&lt;': '<',
  '&gt;': '>',
}

/** Every link in the email: the text part's URLs, then the HTML part's hrefs. */
function linksIn(email: ReceivedEmail): string[] {
  // A sentence may end right after a URL: its full stop is not part of the link.
  const inText = [...email.text.matchAll(/https?:\/\/[^\s<>"']+/g)].map((match) =>
    match[0].replace(/[.,;:!?)]+$/, ''),
  )
  const inHtml = [...email.html.matchAll(/href="([^"]*)"/g)].map((match) =>
    (match[1] ?? '').replace(/&(?:amp|quot|#39|lt|gt);/g, (entity) => ENTITIES[entity] ?? entity),
  )
  return [...inText, ...inHtml]
}

/**
 * The first link in `email` to `origin` (the stack's webUrl), for the browser to follow
 * as the recipient would; fails naming the links it has when none goes there.
 */
export function linkIn(email: ReceivedEmail, origin: string): string {
  const wanted = new URL(origin).origin
  const links = linksIn(email)
  const link = links.find((candidate) => URL.parse(candidate)?.origin === wanted)
  if (link) return link
  throw new Error(
    `no link to ${wanted} in the email "${email.subject}" to ${email.to.join(', ')}; its links: ${links.join(' ') || 'none'}`,
  )
}
