import type { AddressInfo } from 'node:net'
import PostalMime from 'postal-mime'
import { SMTPServer } from 'smtp-server'
import { createCollector } from './collector.ts'

export interface ReceivedEmail {
  from: string
  to: string[]
  subject: string
  text: string
  html: string
  messageId: string | undefined
  headers: Record<string, unknown>
}

export interface SmtpSink {
  port: number
  /** An SMTP URL for nodemailer: smtp://127.0.0.1:<port> */
  url: string
  messages: ReceivedEmail[]
  /** The first message (received or still to come) that matches. */
  waitFor(match: (message: ReceivedEmail) => boolean, timeoutMs?: number): Promise<ReceivedEmail>
  /** Make the next `count` deliveries fail with a temporary error (451), to test retries. */
  failNext(count: number): void
  close(): Promise<void>
}

/**
 * A real SMTP server on loopback that keeps what it receives, parsed: tests (and
 * `pnpm dev`) send through the real SMTP client and read what arrived.
 */
export async function startSmtpSink(
  options: { port?: number; onMessage?: (message: ReceivedEmail) => void } = {},
): Promise<SmtpSink> {
  const received = createCollector<ReceivedEmail>()
  const messages = received.items
  let failures = 0
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    logger: false,
    onData(stream, session, callback) {
      if (failures > 0) {
        failures--
        stream.resume()
        const error = Object.assign(new Error('Temporary failure, try again later'), {
          responseCode: 451,
        })
        return stream.on('end', () => callback(error))
      }
      const chunks: Buffer[] = []
      stream.on('data', (chunk: Buffer) => chunks.push(chunk))
      stream.once('error', (error) => callback(error))
      stream.once('end', () => {
        PostalMime.parse(Buffer.concat(chunks))
          .then((mail) => {
            received.push({
              from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
              to: session.envelope.rcptTo.map((r) => r.address),
              subject: mail.subject ?? '',
              text: mail.text ?? '',
              html: mail.html ?? '',
              messageId: mail.messageId,
              headers: Object.fromEntries(mail.headers.map((header) => [header.key, header.value])),
            })
            options.onMessage?.(messages[messages.length - 1] as ReceivedEmail)
            callback()
          })
          .catch((error: Error) => callback(error))
      })
    },
  })
  await new Promise<void>((resolve) => server.listen(options.port ?? 0, '127.0.0.1', resolve))
  const { port } = server.server.address() as AddressInfo
  return {
    port,
    url: `smtp://127.0.0.1:${port}`,
    messages,
    failNext: (count) => {
      failures = count
    },
    waitFor: (match, timeoutMs = 10_000) => received.waitFor(match, timeoutMs, 'email'),
    close: () => new Promise((resolve) => server.close(() => resolve())),
  }
}
