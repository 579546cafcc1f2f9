import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { launchBrowser } from '@repo/testing/browser'
import type { Browser } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { signUpOwner, useApiServer } from './helpers.ts'

// The queue dashboard in real Chromium: the operator opens the link the API gives out,
// the page renders under its content security policy, and its own API calls succeed
// with the cookie session (the browser sends no Authorization header).
const { server, sql } = useApiServer()
let browser: Browser
let base = ''

beforeAll(async () => {
  await server.listen({ host: '127.0.0.1', port: 0 })
  base = `http://127.0.0.1:${(server.server.address() as AddressInfo).port}`
  browser = await launchBrowser()
})
afterAll(async () => {
  await browser?.close()
})

describe('the queue dashboard in a browser', () => {
  it('opens from a link and shows the queues, with no policy violation or script error', async () => {
    const admin = await signUpOwner(server)
    await sql('UPDATE users SET platform_admin = true WHERE id = $1', [admin.userId])
    const link = await fetch(`${base}/v1/admin/queue-dashboard/links`, {
      method: 'POST',
      headers: admin.headers,
    })
    expect(link.status).toBe(201)
    // The link names API_PUBLIC_URL (unset here: the configured host and port); this test's
    // server listens on a port of its own.
    const given = new URL(((await link.json()) as { url: string }).url)
    expect(given.pathname).toBe('/admin/queues/enter')
    const url = `${base}${given.pathname}${given.search}`

    // Followed from another site (a chat, an email, the web app on its own domain): a page
    // on "localhost" links to the API on "127.0.0.1", a different site for cookies.
    const elsewhere = createServer((_request, response) => {
      response.writeHead(200, { 'content-type': 'text/html' })
      response.end(`<!doctype html><a id="open" href="${url}">Open the dashboard</a>`)
    })
    await new Promise<void>((resolve) => elsewhere.listen(0, '127.0.0.1', resolve))
    const elsewherePort = (elsewhere.address() as AddressInfo).port

    const page = await browser.newPage()
    const problems: string[] = []
    page.on('console', (message) => {
      if (/Content Security Policy|Refused to/i.test(message.text())) problems.push(message.text())
    })
    page.on('pageerror', (error) => problems.push(error.message))
    const failedApiCalls: string[] = []
    page.on('response', (response) => {
      if (response.url().includes('/admin/queues/api/') && response.status() >= 400)
        failedApiCalls.push(`${response.status()} ${response.url()}`)
    })

    try {
      await page.goto(`http://localhost:${elsewherePort}/`)
      await page.click('#open')
      // The link's page: a button that redeems the ticket (a link previewer would not press it).
      await page.waitForURL(`${base}/admin/queues/enter?**`, { timeout: 10_000 })
      await page.click('#open')
      await page.waitForURL(`${base}/admin/queues/`, { timeout: 10_000 })
    } finally {
      await new Promise((resolve) => elsewhere.close(resolve))
    }
    await page.getByText('webhook-deliveries').first().waitFor({ timeout: 20_000 })
    await page.getByText('dead-letter').first().waitFor({ timeout: 5_000 })
    expect(problems).toEqual([])
    expect(failedApiCalls).toEqual([])
    // HttpOnly: the page's scripts cannot read the session.
    expect(await page.evaluate('document.cookie')).toBe('')
    await page.close()

    // Another browser without the link gets our 401, not the board.
    const stranger = await browser.newPage()
    const refused = await stranger.goto(`${base}/admin/queues/`)
    expect(refused?.status()).toBe(401)
    expect(refused?.headers()['content-type']).toContain('application/problem+json')
    await stranger.close()
  })
})
