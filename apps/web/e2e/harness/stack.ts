import type { AddressInfo } from 'node:net'
import { buildTestServer, forgetAccess, ownerQuery } from '@repo/api/test-helpers'
import {
  createTestDatabase,
  createTestRedis,
  type IsolatedServices,
  type SmtpSink,
  startSmtpSink,
  type TestServices,
} from '@repo/testing'
import { startOnFreePort } from '@repo/testing/servers'
import { Cleanup } from './cleanup.ts'
import { startWebServer } from './web-server.ts'
import { startWorker } from './worker.ts'

export interface StackOptions {
  /** false: no worker, so no job runs (no email, no webhook delivery). Default true. */
  worker?: boolean
  /** On top of the API's test environment, e.g. fakeOAuthEnv(provider). */
  apiEnv?: Record<string, string>
  /** On top of the web server's environment. */
  webEnv?: Record<string, string>
  /** On top of the worker's environment. */
  workerEnv?: Record<string, string>
  /** The run's servers, for a process outside Vitest (startTestServices); tests omit it. */
  services?: TestServices
}

export type ApiServer = Awaited<ReturnType<typeof buildTestServer>>

export interface Stack {
  /** The web app's origin, http://127.0.0.1:<port>: where the browser goes and emails link. */
  webUrl: string
  /** The API, as the web server reaches it. */
  apiUrl: string
  /** The API in this process: `api.inject()` sets up what a test does not click through. */
  api: ApiServer
  /** Receives what the worker sends: read it with waitForEmail(). */
  smtp: SmtpSink
  services: IsolatedServices
  /** Process ids of the web server and the worker, to check that stop() ended them. */
  pids: { web: number; worker?: number }
  /** One statement as the database owner, for set-up and checks the app does not expose. */
  sql(query: string, values?: unknown[]): Promise<Record<string, unknown>[]>
  /** What the web server and the worker printed, for reading a failure. */
  output(): string
  /** Stops everything started, last first, and drops the database and Redis namespace. */
  stop(): Promise<void>
}

/**
 * The whole product for one test file, on a database and Redis namespace of its own: the
 * API (in this process: faster to start than a child, and tests reach it directly), the
 * worker, the web app's production server and an SMTP sink. Call it in beforeAll and
 * stop() in afterAll.
 */
export async function startStack(options: StackOptions = {}): Promise<Stack> {
  const cleanup = new Cleanup()
  const started = <T>(resource: T, stop: (resource: T) => unknown) => {
    cleanup.defer(() => stop(resource))
    return resource
  }
  try {
    const [database, redis, smtp] = await Promise.all([
      createTestDatabase({ services: options.services }).then((db) =>
        started(db, (it) => it.drop()),
      ),
      createTestRedis(options.services).then((namespace) =>
        started(namespace, (it) => it.release()),
      ),
      startSmtpSink().then((sink) => started(sink, (it) => it.close())),
    ])
    const services = { database, redis }
    // Links in emails name the web app, whose port is chosen first; if another process
    // takes it before the web server binds it, the servers start again on another.
    const { api, apiUrl, web, worker } = started(
      await startOnFreePort(async (port) => {
        const attempt = new Cleanup()
        try {
          return await startServers(port, services, smtp, options, attempt)
        } catch (error) {
          await attempt.run()
          throw error
        }
      }),
      (servers) => servers.stop(),
    )
    return {
      webUrl: web.url,
      apiUrl,
      api,
      smtp,
      services,
      pids: { web: web.pid, ...(worker ? { worker: worker.pid } : {}) },
      // Behind the API's back, so nobody announces it: the API forgets the sessions and
      // memberships it keeps (ADR 035), as after a change made through it.
      sql: async (query, values = []) => {
        const rows = await ownerQuery(database.url, query, values)
        forgetAccess(api)
        return rows
      },
      output: () =>
        [`web server:\n${web.output()}`, worker ? `worker:\n${worker.output()}` : '']
          .filter(Boolean)
          .join('\n'),
      stop: () => cleanup.run(),
    }
  } catch (error) {
    await cleanup.run()
    throw error
  }
}

/** The API, the web server on `port` and the worker; what started is stopped by `attempt`. */
async function startServers(
  port: number,
  { database, redis }: IsolatedServices,
  smtp: SmtpSink,
  options: StackOptions,
  attempt: Cleanup,
) {
  const webUrl = `http://127.0.0.1:${port}`
  const shared = {
    REDIS_URL: redis.url,
    APP_URL: webUrl,
    // Tests receive webhooks on loopback ports.
    WEBHOOKS_ALLOW_PRIVATE_TARGETS: 'true',
  }
  // The worker starts beside the API and the web server: its start-up is the slowest.
  const workerStarting =
    options.worker === false
      ? Promise.resolve(undefined)
      : startWorker({
          ...shared,
          DATABASE_URL: database.workerUrl,
          SMTP_URL: smtp.url,
          ...options.workerEnv,
        })
  const apiStarting = startApi({
    ...shared,
    DATABASE_URL: database.appUrl,
    // The web server forwards the end user's address (X-Forwarded-For) from loopback.
    TRUST_PROXY: 'loopback',
    ...options.apiEnv,
  })
  const webStarting = apiStarting.then(({ url }) =>
    startWebServer({ port, env: { API_URL: url, ...options.webEnv } }),
  )
  const track = <T extends { stop(): Promise<void> } | undefined>(starting: Promise<T>) =>
    starting.then((server) => {
      if (server) attempt.defer(server.stop)
      return server
    })
  const all = [track(apiStarting), track(webStarting), track(workerStarting)] as const
  // Every start settles before a failure is thrown, so all that did start is in `attempt`.
  await Promise.allSettled(all)
  const [api, web, worker] = await Promise.all(all)
  return { api: api.server, apiUrl: api.url, web, worker, stop: () => attempt.run() }
}

/** The API in this process, listening on a port of its own on loopback. */
async function startApi(env: Record<string, string>) {
  const server = await buildTestServer(env)
  try {
    await server.listen({ host: '127.0.0.1', port: 0 })
  } catch (error) {
    await server.close()
    throw error
  }
  const { port } = server.server.address() as AddressInfo
  return { server, url: `http://127.0.0.1:${port}`, stop: () => server.close() }
}
