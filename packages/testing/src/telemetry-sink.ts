import { createServer, type IncomingHttpHeaders } from 'node:http'
import type { AddressInfo } from 'node:net'
import { gunzipSync, inflateSync } from 'node:zlib'
import { createCollector } from './collector.ts'

export interface SinkRequest {
  method: string
  path: string
  headers: IncomingHttpHeaders
  /** Body as text, decompressed when the client sent it gzip- or deflate-encoded. */
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
 * A loopback HTTP server that accepts what the real Sentry and PostHog clients send, so
 * tests assert on actual deliveries instead of mocking the SDKs.
 */
export async function startTelemetrySink(): Promise<TelemetrySink> {
  const received = createCollector<SinkRequest>()
  const requests = received.items
  const server = createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (chunk: Buffer) => chunks.push(chunk))
    req.on('end', () => {
      const raw = Buffer.concat(chunks)
      const encoding = req.headers['content-encoding']
      const body = (
        encoding === 'gzip' ? gunzipSync(raw) : encoding === 'deflate' ? inflateSync(raw) : raw
      ).toString('utf8')
      received.push({ method: req.method ?? '', path: req.url ?? '', headers: req.headers, body })
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}')
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
