import type { AddressInfo } from 'node:net'
import { buildServer } from '@repo/api/build-server'
import { testEnv } from '@repo/api/test-helpers'
import {
  captureLogs,
  createTestDatabase,
  createTestRedis,
  type TestDatabase,
  type TestRedis,
} from '@repo/testing'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startWebServer, type WebServer } from './harness/web-server.ts'

// The request id from the browser's request to the API's log: the web app's production
// server accepts the caller's X-Request-Id (or makes one), returns it, writes it on its
// own lines and sends it on every API call; the API (in this process, its logs read back)
// logs the call under the same id.
const apiLogs = captureLogs()
let database: TestDatabase
let redis: TestRedis
let api: Awaited<ReturnType<typeof buildServer>>
let web: WebServer

beforeAll(async () => {
  ;[database, redis] = await Promise.all([createTestDatabase(), createTestRedis()])
  api = await buildServer(
    testEnv({
      DATABASE_URL: database.appUrl,
      REDIS_URL: redis.url,
      TRUST_PROXY: 'loopback',
      LOG_LEVEL: 'info',
    }),
    { logDestination: apiLogs.destination },
  )
  await api.listen({ host: '127.0.0.1', port: 0 })
  const { port } = api.server.address() as AddressInfo
  web = await startWebServer({
    env: { API_URL: `http://127.0.0.1:${port}`, LOG_LEVEL: 'debug' },
  })
})
afterAll(async () => {
  await web?.stop()
  await api?.close()
  await Promise.all([database?.drop(), redis?.release()])
})

/** The sign-in page with a session cookie the API refuses: the page asks the API who it is. */
async function signInPage(headers: Record<string, string> = {}) {
  const response = await fetch(`${web.url}/sign-in`, {
    headers: { cookie: 'groundwork_session=not-a-session', ...headers },
    redirect: 'manual',
  })
  await response.arrayBuffer()
  return response.headers.get('x-request-id') ?? ''
}

const apiCallsOf = (requestId: string) =>
  apiLogs
    .lines()
    .filter(
      (line) =>
        line.msg === 'request completed' &&
        line.route === '/v1/auth/me' &&
        line.requestId === requestId,
    )

describe('request ids through the web app', () => {
  it("carry the caller's id to the API and back, and on the web server's own lines", async () => {
    const id = await signInPage({ 'x-request-id': 'from-the-browser-1' })
    expect(id).toBe('from-the-browser-1')
    await expect.poll(() => apiCallsOf(id).length).toBe(1)
    expect(apiCallsOf(id)[0]).toMatchObject({ method: 'GET', status: 401 })
    await expect
      .poll(() =>
        web
          .output()
          .split('\n')
          .filter((line) => line.startsWith('{'))
          .map((line) => JSON.parse(line) as Record<string, unknown>)
          .filter(
            (line) =>
              line.requestId === id && line.msg === 'API call' && line.path === '/v1/auth/me',
          ),
      )
      .toEqual([
        expect.objectContaining({
          service: 'web',
          status: 401,
          durationMs: expect.any(Number),
        }),
      ])
  })

  it('make one up when the caller sends none, the same for the API', async () => {
    const id = await signInPage()
    expect(id).toMatch(/^[0-9a-f-]{36}$/)
    await expect.poll(() => apiCallsOf(id).length).toBe(1)
  })

  it.each([
    ['too long', 'r'.repeat(200)],
    ['a log injection', 'x","level":"fatal'],
    ['markup', '<img src=x onerror=alert(1)>'],
  ])('replace a hostile one (%s) before it reaches the API or a log', async (_what, hostile) => {
    const id = await signInPage({ 'x-request-id': hostile })
    expect(id).not.toBe(hostile)
    expect(id).toMatch(/^[0-9a-f-]{36}$/)
    await expect.poll(() => apiCallsOf(id).length).toBe(1)
    expect(apiLogs.text()).not.toContain(hostile)
    expect(web.output()).not.toContain(hostile)
  })
})
