import { type ChildProcess, spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { createLogger } from '@repo/observability'
import { answers, startGatedPort, useIsolatedServices, waitUntil } from '@repo/testing'
import { afterAll, describe, expect, it } from 'vitest'
import { buildServer } from '../../api/src/build-server.ts'
import { testEnv } from '../../api/test/helpers.ts'
import { auditEntries, callOps, opsEnv, runOps } from './helpers.ts'

// Maintenance mode end to end: `pnpm ops maintenance on|off` as a child process, and real
// API processes (two, as behind a load balancer) that must refuse writes and keep
// serving reads within a bounded time, then accept writes again when it is lifted.
const services = useIsolatedServices()
const apiDir = fileURLToPath(new URL('../../api', import.meta.url))
const REFRESH_MS = 500
// A change reaches an instance within one refresh; the rest is slack for a loaded CI
// machine (requests, and the instances' own timers, run late there). Without refreshing,
// an instance would never see it: the bound is what tells the two apart.
const BOUND_MS = REFRESH_MS + 9_500
const children: ChildProcess[] = []
afterAll(() => {
  for (const child of children) if (child.exitCode === null) child.kill('SIGKILL')
})

async function startApi() {
  const { database, redis } = services()
  const child = spawn(process.execPath, ['src/server.ts'], {
    cwd: apiDir,
    env: {
      PATH: process.env.PATH,
      NODE_ENV: 'test',
      LOG_LEVEL: 'info',
      DATABASE_URL: database.appUrl,
      REDIS_URL: redis.url,
      API_PORT: '0',
      MAINTENANCE_REFRESH_MS: String(REFRESH_MS),
      AUTH_RATE_LIMIT_PER_MINUTE: '1000',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  children.push(child)
  let output = ''
  child.stdout?.on('data', (chunk) => (output += chunk))
  child.stderr?.on('data', (chunk) => (output += chunk))
  const listening = () => output.match(/"msg":"Server listening at (http:[^"]+)"/)?.[1]
  const gaveUp = () => (child.exitCode === null ? undefined : 'the API exited')
  // Two API processes start at once beside other test files: give them a loaded machine's time.
  await waitUntil(() => listening() !== undefined, {
    what: 'the API to listen',
    timeoutMs: 40_000,
    gaveUp,
    detail: () => output,
  })
  const base = listening() as string
  await waitUntil(() => answers(`${base}/readyz`), {
    what: 'the API to be ready',
    timeoutMs: 20_000,
    gaveUp,
  })
  return base
}

const json = (body: unknown) => ({
  method: 'POST',
  headers: { 'content-type': 'application/json' },
  body: JSON.stringify(body),
})
const password = 'correct horse battery staple'

describe('maintenance mode', { shuffle: false }, () => {
  it('refuses every change on every instance within a bounded time, keeps reads, and lifts', async () => {
    const apis = await Promise.all([startApi(), startApi()])
    const [first, second] = apis as [string, string]
    const env = opsEnv(services(), { OPS_OPERATOR: 'carol' })
    const signUp = await fetch(`${first}/v1/auth/sign-up`, {
      ...json({ email: 'maint@example.com', password, name: 'M' }),
    })
    const { token } = (await signUp.json()) as { token: string }
    const auth = { authorization: `Bearer ${token}` }
    const other = (await (
      await fetch(`${second}/v1/auth/sign-in`, json({ email: 'maint@example.com', password }))
    ).json()) as { token: string }
    const createOrg = (base: string) =>
      fetch(`${base}/v1/orgs`, {
        method: 'POST',
        headers: { ...auth, 'content-type': 'application/json' },
        body: JSON.stringify({ name: 'Maintained' }),
      })

    // Not confirmed (no terminal, no --yes): nothing changes.
    expect((await callOps(['maintenance', 'on'], env)).code).toBe(4)
    expect((await createOrg(first)).status).toBe(201)

    const message = 'Upgrading the database: changes are paused until 14:00 UTC.'
    const on = await runOps(
      ['--yes', 'maintenance', 'on', '--message', message, '--for', '30m'],
      env,
    )
    expect(on.code, on.err).toBe(0)
    for (const base of apis)
      await expect
        .poll(async () => (await createOrg(base)).status, { timeout: BOUND_MS, interval: 100 })
        .toBe(503)

    for (const base of apis) {
      const refused = await createOrg(base)
      expect(refused.headers.get('content-type')).toMatch(/^application\/problem\+json/)
      const retryAfter = Number(refused.headers.get('retry-after'))
      expect(retryAfter).toBeGreaterThan(29 * 60)
      expect(retryAfter).toBeLessThanOrEqual(30 * 60)
      expect(await refused.json()).toMatchObject({
        type: 'urn:groundwork:problem:maintenance',
        status: 503,
        detail: message,
      })
      // Reads and probes keep working: /readyz stays 200, so no instance is pulled.
      expect((await fetch(`${base}/v1/auth/me`, { headers: auth })).status).toBe(200)
      expect((await fetch(`${base}/v1/orgs`, { headers: auth })).status).toBe(200)
      expect((await fetch(`${base}/readyz`)).status).toBe(200)
      expect((await fetch(`${base}/healthz`)).status).toBe(200)
      // Signing in and up write sessions and accounts: refused too.
      for (const [path, body] of [
        ['/v1/auth/sign-in', { email: 'maint@example.com', password }],
        ['/v1/auth/sign-up', { email: 'later@example.com', password, name: 'L' }],
      ] as const)
        expect((await fetch(`${base}${path}`, json(body))).status, path).toBe(503)
    }
    // Ending a session stays possible.
    const signOut = await fetch(`${second}/v1/auth/sign-out`, {
      method: 'POST',
      headers: { authorization: `Bearer ${other.token}` },
    })
    expect(signOut.status).toBe(204)

    const status = await callOps(['maintenance', 'status'], env)
    expect(status.out).toContain('Maintenance mode is on')
    expect(status.out).toContain(message)
    expect(status.out).toContain('by carol')
    // Running it again changes nothing and records nothing.
    const again = await callOps(['--yes', 'maintenance', 'on'], env)
    expect(again.code).toBe(0)
    expect(again.out).toContain('Already done')
    const { url } = services().database
    expect(await auditEntries(url, 'maintenance.started')).toEqual([
      expect.objectContaining({
        actor_operator: 'carol',
        organization_id: null,
        target_type: 'maintenance',
        metadata: expect.objectContaining({ message }),
      }),
    ])
    expect(await auditEntries(url, 'maintenance.changed')).toEqual([])

    const off = await runOps(['maintenance', 'off'], env)
    expect(off.code, off.err).toBe(0)
    for (const base of apis)
      await expect
        .poll(async () => (await createOrg(base)).status, { timeout: BOUND_MS, interval: 100 })
        .toBe(201)
    expect((await callOps(['maintenance', 'off'], env)).out).toContain('Already done')
    expect(await auditEntries(url, 'maintenance.ended')).toEqual([
      expect.objectContaining({ actor_operator: 'carol', target_type: 'maintenance' }),
    ])
    expect((await callOps(['maintenance', 'status'], env)).out).toContain('off')
  }, 120_000)

  it('with Redis unreachable, holds the last window until its own end (logged), never longer', async () => {
    const { database, redis } = services()
    const redisUrl = new URL(redis.url)
    const gate = await startGatedPort({ target: Number(redisUrl.port) })
    gate.open()
    redisUrl.port = String(gate.port)
    const lines: string[] = []
    const app = await buildServer(
      testEnv({
        DATABASE_URL: database.appUrl,
        REDIS_URL: redisUrl.toString(),
        MAINTENANCE_REFRESH_MS: '200',
        READINESS_TIMEOUT_MS: '300',
      }),
      {
        logger: createLogger({
          service: 'api',
          level: 'info',
          pretty: false,
          destination: { write: (line: string) => void lines.push(line) },
        }),
      },
    )
    await app.ready()
    const signUp = (n: number) =>
      app.inject({
        method: 'POST',
        url: '/v1/auth/sign-up',
        payload: { email: `outage-${n}@example.com`, password, name: 'O' },
      })
    try {
      const on = await callOps(
        ['--yes', 'maintenance', 'on', '--for', '10s'],
        opsEnv(services(), { OPS_OPERATOR: 'dave' }),
      )
      expect(on.code, on.err).toBe(0)
      const until = Date.parse(/until (\S+) /.exec(on.out)?.[1] as string)
      await expect.poll(async () => (await signUp(1)).statusCode).toBe(503)

      gate.shut()
      // A refresh has failed, and said so; the window still holds.
      await expect
        .poll(() => lines.join(''), { timeout: 5_000 })
        .toContain('cannot read the maintenance window')
      expect(Date.now()).toBeLessThan(until)
      expect((await signUp(2)).statusCode).toBe(503)
      expect((await app.inject({ url: '/healthz' })).statusCode).toBe(200)

      // At the window's end writes open again, Redis or not (sign-up needs only Postgres).
      await expect.poll(async () => (await signUp(3)).statusCode, { timeout: 15_000 }).toBe(201)
      expect(Date.now()).toBeGreaterThanOrEqual(until)
    } finally {
      await app.close()
      await gate.close()
      await callOps(['maintenance', 'off'], opsEnv(services(), { OPS_OPERATOR: 'dave' }))
    }
  }, 60_000)

  it('starting without Redis, knows of no window: writes pass, and the log says why', async () => {
    const { database } = services()
    const gate = await startGatedPort() // shut, with nothing behind it
    const lines: string[] = []
    const app = await buildServer(
      testEnv({
        DATABASE_URL: database.appUrl,
        REDIS_URL: `redis://127.0.0.1:${gate.port}`,
        REDIS_CONNECT_TIMEOUT_MS: '300',
        MAINTENANCE_REFRESH_MS: '200',
      }),
      {
        logger: createLogger({
          service: 'api',
          level: 'info',
          pretty: false,
          destination: { write: (line: string) => void lines.push(line) },
        }),
      },
    )
    try {
      await app.ready()
      const res = await app.inject({
        method: 'POST',
        url: '/v1/auth/sign-up',
        payload: { email: 'no-redis@example.com', password, name: 'N' },
      })
      expect(res.statusCode).toBe(201)
      expect(lines.join('')).toContain('cannot read the maintenance window')
      // Not ready meanwhile: load balancers send it nothing until Redis answers.
      expect((await app.inject({ url: '/readyz' })).statusCode).toBe(503)
    } finally {
      await app.close()
      await gate.close()
    }
  })
})
