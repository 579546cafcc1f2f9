import { type ChildProcess, spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { useIsolatedServices } from '@repo/testing'
import { freePort } from '@repo/testing/servers'
import { afterEach, describe, expect, it } from 'vitest'

// The real entry point in a child process: env validation, listen, signals.
const apiDir = fileURLToPath(new URL('..', import.meta.url))
const services = useIsolatedServices()
const children: ChildProcess[] = []

function startApi(env: Record<string, string>) {
  const child = spawn(process.execPath, ['src/server.ts'], {
    cwd: apiDir,
    env: { PATH: process.env.PATH, NODE_ENV: 'test', LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  children.push(child)
  let output = ''
  child.stdout?.on('data', (chunk) => (output += chunk))
  child.stderr?.on('data', (chunk) => (output += chunk))
  const exited = new Promise<number | null>((resolve) =>
    child.once('exit', (code) => resolve(code)),
  )
  return { child, exited, output: () => output }
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
    const port = await freePort()
    const { database, redis } = services()
    const api = startApi({
      DATABASE_URL: database.appUrl,
      REDIS_URL: redis.url,
      API_PORT: String(port),
      SHUTDOWN_DRAIN_DELAY_MS: '1500',
    })
    const base = `http://127.0.0.1:${port}`
    await expect
      .poll(async () => (await fetch(`${base}/readyz`).catch(() => undefined))?.status, {
        timeout: 15_000,
        interval: 100,
      })
      .toBe(200)

    // Request logs are JSON with the caller's request id, and never the credentials.
    await fetch(`${base}/healthz`, {
      headers: { 'x-request-id': 'trace-me-1', authorization: 'Bearer s3cret' },
    })
    await expect.poll(() => api.output()).toContain('"requestId":"trace-me-1"')
    expect(api.output()).not.toContain('s3cret')

    api.child.kill('SIGTERM')
    // During the drain delay: still serving, but telling load balancers to go away.
    await expect
      .poll(async () => (await fetch(`${base}/readyz`)).status, { timeout: 1_000 })
      .toBe(503)
    expect((await fetch(`${base}/healthz`)).status).toBe(200)

    expect(await api.exited).toBe(0)
    const logs = api.output()
    expect(logs).toContain('"msg":"shutting down"')
    expect(logs).toContain('"signal":"SIGTERM"')
    await expect(fetch(`${base}/healthz`)).rejects.toThrow()
  })
})
