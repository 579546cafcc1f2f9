import type { ChildProcess } from 'node:child_process'
import { useIsolatedServices } from '@repo/testing'
import { afterEach, describe, expect, it } from 'vitest'
import { spawnApi, startReadyApi as startApiProcess } from './api-process.ts'
import { ownerQuery } from './helpers.ts'

// The real entry point in a child process: env validation, listen, signals.
const services = useIsolatedServices()
const children: ChildProcess[] = []

const startApi = (env: Record<string, string>) => spawnApi(env, children)

/** The real API against this file's services, ready. */
function startReadyApi(env: Record<string, string>) {
  const { database, redis } = services()
  return startApiProcess({ DATABASE_URL: database.appUrl, REDIS_URL: redis.url, ...env }, children)
}

afterEach(() => {
  for (const child of children.splice(0)) if (child.exitCode === null) child.kill('SIGKILL')
})

describe('api process', () => {
  it('exits 1 with a readable list of every bad variable', async () => {
    const api = startApi({ DATABASE_URL: 'mysql://nope', API_PORT: 'eighty' })
    expect(await api.exited).toBe(1)
    const output = api.output()
    expect(output).toContain('Invalid environment')
    expect(output).toMatch(/DATABASE_URL: must be a postgres/)
    expect(output).toContain('REDIS_URL: is required')
    expect(output).toMatch(/API_PORT: /)
    expect(output).not.toMatch(/\bat .*\.ts:\d+/) // no stack trace
  })

  it('serves, then on SIGTERM reports not-ready while draining, and exits 0', async () => {
    const { api, base } = await startReadyApi({
      SHUTDOWN_DRAIN_DELAY_MS: '3000',
    })

    // Request logs are JSON with the caller's request id, and never the credentials.
    // (Probes log at debug: /version, not /healthz.)
    await fetch(`${base}/version`, {
      headers: { 'x-request-id': 'trace-me-1', authorization: 'Bearer s3cret' },
    })
    await expect.poll(() => api.output()).toContain('"requestId":"trace-me-1"')
    expect(api.output()).not.toContain('s3cret')

    api.child.kill('SIGTERM')
    // Once the signal is handled, and for the drain delay: still serving, but telling load
    // balancers to go away. Waiting for the log line, not a guess, starts the drain window.
    await expect.poll(() => api.output()).toContain('"msg":"shutting down"')
    expect((await fetch(`${base}/readyz`)).status).toBe(503)
    expect((await fetch(`${base}/healthz`)).status).toBe(200)

    expect(await api.exited).toBe(0)
    const logs = api.output()
    expect(logs).toContain('"msg":"shutting down"')
    expect(logs).toContain('"signal":"SIGTERM"')
    await expect(fetch(`${base}/healthz`)).rejects.toThrow()
  }, 60_000)

  it('on a port of its own choosing (API_PORT=0), hands out links to that port', async () => {
    const { base } = await startReadyApi({})
    const email = 'operator@example.com'
    const signUp = await fetch(`${base}/v1/auth/sign-up`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email, password: 'correct horse battery staple', name: 'Op' }),
    })
    expect(signUp.status, await signUp.clone().text()).toBe(201)
    const { token } = (await signUp.json()) as { token: string }
    await ownerQuery(
      services().database.url,
      'UPDATE users SET platform_admin = true WHERE email = $1',
      [email],
    )
    const link = await fetch(`${base}/v1/admin/queue-dashboard/links`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}` },
    })
    expect(link.status).toBe(201)
    expect(new URL(((await link.json()) as { url: string }).url).origin).toBe(base)
  }, 60_000)

  it('loses no request when SIGTERM arrives under load behind a load balancer', async () => {
    // The drain delay must outlast the balancer's noticing the 503 (production: 15 s, a
    // load balancer's deregistration 10 s). 300 ms was too short on a loaded CI machine:
    // a readiness answer came later than that, the listener had closed, and two sign-ins
    // routed meanwhile were reset. Removing the drain still resets them at once.
    const { api, base } = await startReadyApi({
      SHUTDOWN_DRAIN_DELAY_MS: '2000',
      AUTH_RATE_LIMIT_PER_MINUTE: '100000',
      RATE_LIMIT_IP_PER_MINUTE: '100000',
    })

    const statuses: number[] = []
    const failures: string[] = []
    let signalled = false
    let answeredAfterSignal = 0
    // A load balancer: polls readiness and stops routing new requests once it reads 503,
    // as a real one does during the drain delay.
    let routing = true
    const balancer = (async () => {
      while (routing) {
        const ready = await fetch(`${base}/readyz`, { headers: { connection: 'close' } }).catch(
          () => undefined,
        )
        if (ready?.status !== 200) routing = false
        await new Promise((resolve) => setTimeout(resolve, 50))
      }
    })()
    // Eight clients keep sign-ins in flight (each one Argon2id verification) while the
    // balancer routes to this instance.
    const client = async () => {
      while (routing) {
        try {
          const res = await fetch(`${base}/v1/auth/sign-in`, {
            method: 'POST',
            headers: { 'content-type': 'application/json', connection: 'close' },
            body: JSON.stringify({ email: 'nobody@example.com', password: 'not the password' }),
          })
          statuses.push(res.status)
          if (signalled) answeredAfterSignal++
        } catch (error) {
          failures.push((error as { cause?: { code?: string } }).cause?.code ?? String(error))
          return
        }
      }
    }
    const clients = Array.from({ length: 8 }, client)
    // Signal once every client has had answers, so requests are in flight when it lands.
    await expect.poll(() => statuses.length, { timeout: 15_000 }).toBeGreaterThanOrEqual(16)
    api.child.kill('SIGTERM')
    signalled = true
    await Promise.all([...clients, balancer])

    // On failure, the process's own last words say why (seen once under full-suite load).
    const lastWords = () =>
      api
        .output()
        .split('\n')
        .filter((line) => /"level":"(warn|error|fatal)"/.test(line))
        .slice(-10)
        .join('\n')
    expect(await api.exited, lastWords()).toBe(0)
    expect(failures).toEqual([])
    expect(statuses.length).toBeGreaterThan(8)
    // Every request got a real answer: wrong password (401) or, as guesses pile up from
    // one address, the sign-in throttle (429). Never a reset connection or a 5xx.
    expect([...new Set(statuses)].filter((status) => status !== 401 && status !== 429)).toEqual([])
    expect(answeredAfterSignal).toBeGreaterThan(0)
  }, 60_000)
})
