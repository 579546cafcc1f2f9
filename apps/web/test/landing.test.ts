import { type ChildProcess, spawn } from 'node:child_process'
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { answers, STACK_FRAME, waitUntil } from '@repo/testing'
import { freePort, PortInUseError, startOnFreePort } from '@repo/testing/servers'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'

// The production build (the standalone server Next.js emits), started as it would be
// deployed. `pnpm test` builds it first (turbo dependency); run `pnpm build` before
// running this file on its own.
const server = join(import.meta.dirname, '..', '.next', 'standalone', 'apps', 'web', 'server.js')
let child: ChildProcess
let base = ''

/**
 * The standalone server on a port that was free a moment ago (it cannot pick one itself:
 * PORT=0 means 3000); if another process took the port first, again on another one.
 */
function startWeb(port: number): Promise<ChildProcess> {
  const web = spawn(process.execPath, [server], {
    env: {
      PATH: process.env.PATH,
      NODE_ENV: 'production',
      PORT: String(port),
      HOSTNAME: '127.0.0.1',
      NEXT_TELEMETRY_DISABLED: '1',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let output = ''
  web.stdout?.on('data', (chunk) => (output += chunk))
  web.stderr?.on('data', (chunk) => (output += chunk))
  // 'close', not 'exit': only then has all of its output (the EADDRINUSE line) arrived.
  let closed = false
  web.once('close', () => {
    closed = true
  })
  // "Ready" comes once it listens: only then is it this server that answers on the port.
  return waitUntil(() => output.includes('✓ Ready'), {
    what: 'the web server to listen',
    timeoutMs: 20_000,
    gaveUp: () => (closed ? 'the web server exited' : undefined),
    detail: () => output,
  }).then(
    () => web,
    (error) => {
      web.kill()
      if (output.includes(`EADDRINUSE: address already in use 127.0.0.1:${port}`))
        throw new PortInUseError(output)
      throw error
    },
  )
}

beforeAll(async () => {
  if (!existsSync(server))
    throw new Error(`No production build at ${server}: run \`pnpm build\` first.`)
  let port = 0
  child = await startOnFreePort((free) => {
    port = free
    return startWeb(free)
  })
  base = `http://127.0.0.1:${port}`
  await waitUntil(() => answers(`${base}/healthz`), { what: 'the web server', timeoutMs: 20_000 })
})
afterAll(() => {
  child?.kill('SIGTERM')
})

describe('web production build', () => {
  it('serves the landing page with its stylesheet', async () => {
    const res = await fetch(base)
    expect(res.status).toBe(200)
    expect(res.headers.get('x-powered-by')).toBeNull()
    const html = await res.text()
    expect(html).toContain('Ship the product, not the plumbing.')
    const stylesheet = html.match(/href="(\/_next\/static\/[^"]+\.css)"/)?.[1]
    expect(stylesheet).toBeDefined()
    const css = await fetch(`${base}${stylesheet}`)
    expect(css.status).toBe(200)
    expect(await css.text()).toContain('font-family')
  })

  it('answers its liveness probe', async () => {
    const res = await fetch(`${base}/healthz`)
    expect(await res.json()).toEqual({ status: 'ok' })
  })

  it('answers an unknown page with 404', async () => {
    expect((await fetch(`${base}/no-such-page`)).status).toBe(404)
  })
})

describe('web server environment', () => {
  it('exits with a readable list when the environment is invalid', async () => {
    const bad = spawn(process.execPath, [server], {
      env: {
        PATH: process.env.PATH,
        NODE_ENV: 'production',
        PORT: String(await freePort()),
        SENTRY_DSN: 'not a url',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let output = ''
    bad.stdout?.on('data', (chunk) => (output += chunk))
    bad.stderr?.on('data', (chunk) => (output += chunk))
    const code = await new Promise((resolve) => bad.once('exit', resolve))
    expect(code).toBe(1)
    expect(output).toContain('Invalid environment')
    expect(output).toContain('SENTRY_DSN')
    expect(output).not.toMatch(STACK_FRAME)
  })
})
