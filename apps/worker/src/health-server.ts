import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import type { Logger } from '@repo/observability'
import pTimeout from 'p-timeout'

export interface HealthChecks {
  /** Resolves when the dependency answers; rejects (or hangs) when it does not. */
  [name: string]: () => Promise<unknown>
}

export interface HealthServer {
  /** The port it listens on (useful with port 0). */
  port: number
  /** From now on /readyz answers 503: the worker is finishing its jobs and leaving. */
  drain(): void
  close(): Promise<void>
}

const json = (status: number, body: unknown) => ({ status, body: JSON.stringify(body) })

/** Runs every check at once, each given `timeoutMs`: up or down, by name. */
export async function checkDependencies(
  checks: HealthChecks,
  timeoutMs: number,
): Promise<Record<string, 'up' | 'down'>> {
  const entries = await Promise.all(
    Object.entries(checks).map(async ([name, check]) => {
      try {
        await pTimeout(check(), { milliseconds: timeoutMs })
        return [name, 'up'] as const
      } catch {
        return [name, 'down'] as const
      }
    }),
  )
  return Object.fromEntries(entries)
}

/**
 * The worker's probes, for an orchestrator or a container health check. GET /healthz: the
 * process and its event loop answer (restart it when they do not). GET /readyz: every check
 * (Postgres, Redis) answered within `timeoutMs` and the worker is not shutting down; 503
 * names what failed. No framework: two routes, on a port of their own, never public.
 */
export async function startHealthServer(options: {
  host: string
  port: number
  timeoutMs: number
  checks: HealthChecks
  logger: Logger
}): Promise<HealthServer> {
  let draining = false

  async function readiness() {
    const checks = await checkDependencies(options.checks, options.timeoutMs)
    const entries = Object.entries(checks)
    const failed = entries.filter(([, state]) => state === 'down').map(([name]) => name)
    if (draining)
      return json(503, { status: 'draining', detail: 'The worker is shutting down.', checks })
    if (failed.length)
      return json(503, {
        status: 'unavailable',
        detail: `Unavailable: ${failed.join(', ')}.`,
        checks,
      })
    return json(200, { status: 'ready', checks })
  }

  const server: Server = createServer((request, response) => {
    const path = (request.url ?? '/').split('?')[0]
    const answer =
      request.method !== 'GET' && request.method !== 'HEAD'
        ? Promise.resolve(json(405, { status: 'method not allowed' }))
        : path === '/healthz'
          ? Promise.resolve(json(200, { status: 'ok' }))
          : path === '/readyz'
            ? readiness()
            : Promise.resolve(json(404, { status: 'not found' }))
    void answer.then(({ status, body }) => {
      response.writeHead(status, {
        'content-type': 'application/json; charset=utf-8',
        'cache-control': 'no-store',
      })
      response.end(request.method === 'HEAD' ? undefined : body)
    })
  })
  // Probes are short: a stuck client must not hold a socket open.
  server.requestTimeout = 5_000
  server.headersTimeout = 5_000

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(options.port, options.host, () => {
      server.off('error', reject)
      resolve()
    })
  })
  const { port } = server.address() as AddressInfo
  options.logger.info({ host: options.host, port }, 'worker health server listening')

  return {
    port,
    drain: () => {
      draining = true
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve())
        server.closeAllConnections()
      }),
  }
}
