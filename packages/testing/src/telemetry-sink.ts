import { createServer, type IncomingHttpHeaders } from 'node:http'
import type { AddressInfo } from 'node:net'
import { gunzipSync, inflateSync } from 'node:zlib'
import { createCollector } from './collector.ts'

export interface SinkRequest {
  method: string
  path: string
  headers: IncomingHttpHeaders
  /** Body as text, decompressed when the client sent it gzip- (or deflate-) encoded. */
  body: string
}

export interface TelemetrySink {
  port: number
  /** A Sentry DSN whose events arrive at this sink. */
  sentryDsn: string
  /** A PostHog host whose events arrive at this sink. */
  posthogHost: string
  requests: SinkRequest[]
  /** Resolves with the first request (already received or still to come) that matches. */
  waitFor(match: (request: SinkRequest) => boolean, timeoutMs?: number): Promise<SinkRequest>
  close(): Promise<void>
}

/**
 * What Sentry's and PostHog's ingestion answer a browser on another origin: its origin is
 * allowed, and a preflight allows the method and headers it asks for. A server-side client
 * sends no Origin and gets none of it.
 */
function corsHeaders(headers: IncomingHttpHeaders): Record<string, string> {
  const origin = headers.origin
  if (!origin) return {}
  const requested = headers['access-control-request-headers']
  return {
    'access-control-allow-origin': origin,
    'access-control-allow-credentials': 'true',
    vary: 'Origin',
    ...(headers['access-control-request-method']
      ? {
          'access-control-allow-methods': 'GET, POST, OPTIONS',
          ...(requested ? { 'access-control-allow-headers': requested } : {}),
          'access-control-max-age': '3600',
        }
      : {}),
  }
}

/**
 * A loopback HTTP server that accepts what the real Sentry and PostHog clients send, so
 * tests assert on actual deliveries instead of mocking the SDKs. Browsers may send to it
 * from a page's origin (it answers CORS as the real services do); their preflights are
 * answered, not recorded.
 */
export async function startTelemetrySink(
  options: {
    /** Answer each request only after this long: a slow Sentry or PostHog. */
    respondAfterMs?: number
    /** A JSON answer of its own for some requests (PostHog's flags); `{}` otherwise. */
    respond?: (request: SinkRequest) => unknown
  } = {},
): Promise<TelemetrySink> {
  const received = createCollector<SinkRequest>()
  const requests = received.items
  const server = createServer((req, res) => {
    const cors = corsHeaders(req.headers)
    if (req.method === 'OPTIONS' && req.headers['access-control-request-method']) {
      res.writeHead(204, cors).end()
      return
    }
    const chunks: Buffer[] = []
    req.on('data', (chunk: Buffer) => chunks.push(chunk))
    req.on('end', () => {
      const raw = Buffer.concat(chunks)
      const encoding = req.headers['content-encoding']
      // posthog-js gzips its batches without saying so in a header (its query names the
      // compression); gzip's magic bytes say it either way, and no text starts with them.
      const gzipped = encoding === 'gzip' || (raw[0] === 0x1f && raw[1] === 0x8b)
      const body = (
        gzipped ? gunzipSync(raw) : encoding === 'deflate' ? inflateSync(raw) : raw
      ).toString('utf8')
      const request = { method: req.method ?? '', path: req.url ?? '', headers: req.headers, body }
      received.push(request)
      const answer = () => {
        const json = JSON.stringify(options.respond?.(request) ?? {})
        if (!res.destroyed)
          res.writeHead(200, { 'content-type': 'application/json', ...cors }).end(json)
      }
      if (options.respondAfterMs) setTimeout(answer, options.respondAfterMs).unref()
      else answer()
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  return {
    port,
    sentryDsn: `http://public@127.0.0.1:${port}/1`,
    posthogHost: `http://127.0.0.1:${port}`,
    requests,
    waitFor: (match, timeoutMs = 10_000) => received.waitFor(match, timeoutMs, 'telemetry request'),
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      }),
  }
}

/** One item of a Sentry envelope: its header and its payload (parsed when it is JSON). */
export interface SentryEnvelopeItem {
  header: { type?: string; [key: string]: unknown }
  payload: Record<string, unknown>
}

/**
 * The items of the Sentry envelopes the sink received, of one type (`event` for errors and
 * messages), in arrival order. Envelopes are newline-delimited JSON: a header line, then
 * each item's header and payload.
 */
export function sentryItems(requests: SinkRequest[], type = 'event'): SentryEnvelopeItem[] {
  const items: SentryEnvelopeItem[] = []
  for (const request of requests) {
    if (!request.path.startsWith('/api/')) continue
    const lines = request.body.split('\n').filter((line) => line.length > 0)
    for (let i = 1; i + 1 < lines.length; i += 2) {
      try {
        const header = JSON.parse(lines[i] as string) as SentryEnvelopeItem['header']
        const payload = JSON.parse(lines[i + 1] as string) as Record<string, unknown>
        if (header.type === type) items.push({ header, payload })
      } catch {
        // An attachment or a malformed line: not an item this helper reads.
      }
    }
  }
  return items
}
