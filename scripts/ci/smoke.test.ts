import { execFile } from 'node:child_process'
import type { AddressInfo } from 'node:net'
import { join } from 'node:path'
import { useIsolatedServices } from '@repo/testing'
import { freePort } from '@repo/testing/servers'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildTestServer } from '../../apps/api/test/helpers.ts'
import { startWebServer, type WebServer } from '../../apps/web/e2e/harness/web-server.ts'

// The smoke test deploys run (scripts/ci/smoke.ts), against the real API and, for the page,
// the web app's production server (`pnpm test` builds it first). The script runs as the
// pipeline runs it: a child process that knows only URLs and the account.
const COMMIT = 'a1b2c3d4e5f60718293a4b5c6d7e8f9012345678'
const email = 'smoke@example.com'
const password = 'correct horse battery staple'
const services = useIsolatedServices()

async function listen(overrides: Record<string, string>) {
  const server = await buildTestServer(overrides)
  await server.listen({ host: '127.0.0.1', port: 0 })
  return { server, url: `http://127.0.0.1:${(server.server.address() as AddressInfo).port}` }
}

function smoke(
  args: string[],
  env: NodeJS.ProcessEnv = { SMOKE_EMAIL: email, SMOKE_PASSWORD: password },
) {
  return new Promise<{ code: number; output: string }>((done) =>
    execFile(
      process.execPath,
      [join(import.meta.dirname, 'smoke.ts'), ...args],
      { env: { PATH: process.env.PATH, ...env }, timeout: 60_000 },
      (error, stdout, stderr) =>
        done({ code: error ? Number(error.code ?? 1) : 0, output: `${stdout}${stderr}` }),
    ),
  )
}

let api: Awaited<ReturnType<typeof listen>>
beforeAll(async () => {
  const { database, redis } = services()
  api = await listen({ DATABASE_URL: database.appUrl, REDIS_URL: redis.url, GIT_COMMIT: COMMIT })
  const signUp = await api.server.inject({
    method: 'POST',
    url: '/v1/auth/sign-up',
    payload: { email, password, name: 'Smoke' },
  })
  expect(signUp.statusCode).toBe(201)
})
afterAll(() => api?.server.close())

describe('the smoke test, against the product', () => {
  let web: WebServer
  beforeAll(async () => {
    web = await startWebServer({ env: { API_URL: api.url } })
  }, 60_000)
  afterAll(() => web?.stop())

  it('passes: ready, the expected commit, a sign-in whose session works, the sign-in page', async () => {
    const { code, output } = await smoke([
      '--api-url',
      api.url,
      '--web-url',
      web.url,
      '--expect-commit',
      COMMIT,
    ])
    expect(code, output).toBe(0)
    expect(output).toContain('ok  API ready (/readyz)')
    expect(output).toContain(`ok  API runs commit ${COMMIT.slice(0, 12)} (/version)`)
    expect(output).toContain(`ok  signed in as ${email}, used the session and signed out`)
    expect(output).toContain('ok  web app serves its sign-in page')
  })

  it('passes with --sign-up, making its own account (a preview environment)', async () => {
    const { code, output } = await smoke(
      ['--api-url', api.url, '--web-url', web.url, '--sign-up'],
      {},
    )
    expect(code, output).toBe(0)
    expect(output).toMatch(/ok {2}signed up smoke-[0-9a-f]{12}@example\.com/)
  })
})

describe('the smoke test fails, saying which check and why', () => {
  // A port nothing listens on (fetch refuses the well-known ones, such as 9, outright).
  let webUrl = ''
  beforeAll(async () => {
    webUrl = `http://127.0.0.1:${await freePort()}`
  })

  it('when the password is wrong', async () => {
    const { code, output } = await smoke(['--api-url', api.url, '--web-url', webUrl], {
      SMOKE_EMAIL: email,
      SMOKE_PASSWORD: 'not the password at all',
    })
    expect(code, output).toBe(1)
    expect(output).toMatch(/FAILED {2}sign-in as smoke@example\.com answered 401: /)
  })

  it('when the API runs another commit (the rollout did not happen), at the deadline', async () => {
    const started = Date.now()
    const { code, output } = await smoke([
      '--api-url',
      api.url,
      '--web-url',
      webUrl,
      '--expect-commit',
      'ffffffffffffffffffffffffffffffffffffffff',
      '--timeout',
      '2',
    ])
    expect(code, output).toBe(1)
    expect(output).toContain(
      `/version: still failing at the deadline: runs commit ${COMMIT}, not ffff`,
    )
    expect(Date.now() - started).toBeLessThan(15_000)
  })

  it('when nothing answers, or the API is not ready (naming what is down)', async () => {
    const closed = `http://127.0.0.1:${await freePort()}`
    const down = await smoke(['--api-url', closed, '--web-url', webUrl, '--timeout', '2'])
    expect(down.code, down.output).toBe(1)
    expect(down.output).toMatch(
      /FAILED {2}.*\/readyz: still failing at the deadline: GET .*\/readyz: ECONNREFUSED/,
    )

    const { database } = services()
    const unready = await listen({
      DATABASE_URL: database.appUrl,
      REDIS_URL: `redis://127.0.0.1:${await freePort()}`,
      REDIS_CONNECT_TIMEOUT_MS: '200',
    })
    try {
      const { code, output } = await smoke([
        '--api-url',
        unready.url,
        '--web-url',
        webUrl,
        '--timeout',
        '2',
      ])
      expect(code, output).toBe(1)
      expect(output).toContain(
        '/readyz: still failing at the deadline: answered 503: Unavailable: redis.',
      )
    } finally {
      await unready.server.close()
    }
  })

  it('when the web app does not serve its sign-in page', async () => {
    // The API is a real server that answers, but not with the page.
    const { code, output } = await smoke(['--api-url', api.url, '--web-url', api.url])
    expect(code, output).toBe(1)
    expect(output).toContain(`FAILED  web app: GET ${api.url}/sign-in answered 404`)
    const nothing = await smoke(['--api-url', api.url, '--web-url', webUrl])
    expect(nothing.output).toContain(`FAILED  GET ${webUrl}/sign-in: ECONNREFUSED`)
  })

  it('on bad usage, with exit code 2', async () => {
    for (const [args, env, message] of [
      [['--api-url', api.url, '--web-url', webUrl], {}, 'SMOKE_EMAIL and SMOKE_PASSWORD must name'],
      [['--web-url', webUrl], undefined, '--api-url is required'],
      [['--api-url', 'not a url', '--web-url', webUrl], undefined, '--api-url is not a URL'],
      [
        ['--api-url', api.url, '--web-url', webUrl, '--timeout', 'soon'],
        undefined,
        '--timeout must be',
      ],
    ] as const) {
      const { code, output } = await smoke([...args], env)
      expect(code, output).toBe(2)
      expect(output).toContain(message)
    }
  })
})
