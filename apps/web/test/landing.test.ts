import { spawn } from 'node:child_process'
import { STACK_FRAME } from '@repo/testing'
import { freePort } from '@repo/testing/servers'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { STANDALONE_SERVER, startWebServer, type WebServer } from '../e2e/harness/web-server.ts'

// The production build (the standalone server Next.js emits), started as it would be
// deployed, on its own: the landing page needs no API.
let web: WebServer
let base = ''

beforeAll(async () => {
  web = await startWebServer()
  base = web.url
})
afterAll(() => web?.stop())

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
    const bad = spawn(process.execPath, [STANDALONE_SERVER], {
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
