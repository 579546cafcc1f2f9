import { timingSafeEqual } from 'node:crypto'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import type { Logger } from 'pino'
import type { Metrics } from './metrics.ts'

export interface MetricsServerOptions {
  metrics: Pick<Metrics, 'scrape' | 'contentType'>
  host: string
  /** 0: any free port (read it back from `port`). */
  port: number
  /** When set, a scrape must send `Authorization: Bearer <token>`. */
  token?: string | undefined
  logger: Pick<Logger, 'info' | 'warn'>
}

export interface MetricsServer {
  port: number
  close(): Promise<void>
}

/** A scrape past this answers 503: each collector bounds itself well inside it. */
const SCRAPE_TIMEOUT_MS = 5_000

function sameSecret(given: string, expected: string) {
  const a = Buffer.from(given)
  const b = Buffer.from(expected)
  return a.length === b.length && timingSafeEqual(a, b)
}

/**
 * GET /metrics in Prometheus' text format, on a port of its own and never the public one
 * (docs/decisions/029): whoever reaches the API cannot read its internals. Optionally
 * behind a bearer token, for scrapes from outside the pod network. Nothing else is served.
 */
export async function startMetricsServer(options: MetricsServerOptions): Promise<MetricsServer> {
  const server: Server = createServer((request, response) => {
    const answer = (status: number, body: string, headers: Record<string, string> = {}) => {
      response.writeHead(status, {
        'content-type': 'text/plain; charset=utf-8',
        'cache-control': 'no-store',
        ...headers,
      })
      response.end(request.method === 'HEAD' ? undefined : body)
    }
    const path = (request.url ?? '/').split('?')[0]
    if (path !== '/metrics') return answer(404, 'not found\n')
    if (request.method !== 'GET' && request.method !== 'HEAD')
      return answer(405, 'method not allowed\n', { allow: 'GET, HEAD' })
    if (options.token) {
      const header = request.headers.authorization ?? ''
      const given = header.startsWith('Bearer ') ? header.slice(7) : ''
      if (!sameSecret(given, options.token))
        return answer(401, 'unauthorized\n', { 'www-authenticate': 'Bearer' })
    }
    let timer: NodeJS.Timeout | undefined
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error('the scrape timed out')), SCRAPE_TIMEOUT_MS)
    })
    Promise.race([options.metrics.scrape(), deadline])
      .then(
        (text) => answer(200, text, { 'content-type': options.metrics.contentType }),
        (err: Error) => {
          options.logger.warn({ err: err.message }, 'metrics scrape failed')
          answer(503, 'metrics unavailable\n')
        },
      )
      .finally(() => clearTimeout(timer))
  })
  // A stuck client must not hold a socket open.
  server.requestTimeout = SCRAPE_TIMEOUT_MS + 5_000
  server.headersTimeout = 5_000

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(options.port, options.host, () => {
      server.off('error', reject)
      resolve()
    })
  })
  const { port } = server.address() as AddressInfo
  options.logger.info({ host: options.host, port }, 'metrics server listening')
  return {
    port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve())
        server.closeAllConnections()
      }),
  }
}
