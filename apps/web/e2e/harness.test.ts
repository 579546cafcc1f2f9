import { existsSync } from 'node:fs'
import { isAlive, isPortInUse } from '@repo/testing/servers'
import type { Browser } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  COLOR_RULES,
  expectNoA11yViolations,
  launchBrowser,
  linkIn,
  newContext,
  type Stack,
  screenshot,
  startedTogether,
  startStack,
  stopTogether,
  totp,
  waitForEmail,
} from './harness/index.ts'

// The harness every browser test stands on, proven once: the real stack starts, a real
// browser reaches it, the checks they share work, and nothing outlives stop().
let stack: Stack
let browser: Browser

beforeAll(async () => {
  ;[stack, browser] = await startedTogether(startStack(), launchBrowser())
})
afterAll(async () => {
  await stopTogether(stack, browser)
})

// A browser test clicks through several pages: a minute per test, whatever the suite's default.
describe('the browser-test harness', { shuffle: false, timeout: 60_000 }, () => {
  it('serves the landing page to Chromium, accessible in light and dark', async () => {
    const context = await newContext(browser)
    const page = await context.newPage()
    const response = await page.goto(stack.webUrl)
    expect(response?.status()).toBe(200)
    await expect
      .poll(() => page.getByRole('heading', { level: 1 }).textContent())
      .toContain('Ship the product, not the plumbing.')
    await expectNoA11yViolations(page)
    await page.emulateMedia({ colorScheme: 'dark' })
    await expectNoA11yViolations(page)
    const paths = await screenshot(page, 'landing')
    expect(paths.map((path) => path.split('/').slice(-2).join('/'))).toEqual([
      'harness/landing-light.png',
      'harness/landing-dark.png',
      'harness/landing-narrow.png',
    ])
    for (const path of paths) expect(existsSync(path)).toBe(true)
    await context.close()
  })

  it('fails the accessibility check on a serious violation, naming the rule and where', async () => {
    const context = await newContext(browser)
    const page = await context.newPage()
    await page.setContent('<!doctype html><html lang="en"><title>t</title><img src="x.png">')
    // The help link's `application` is @axe-core/playwright's branding, which it sends
    // after injecting axe in a race with a 1 s timer: under load it loses and axe keeps
    // its own (`axeAPI`), the same page behind it.
    await expect(expectNoA11yViolations(page)).rejects.toThrow(
      /image-alt \(critical\): Images must have alternative text\n {2}https:\/\/dequeuniversity\.com\/rules\/axe\/[\d.]+\/image-alt\?application=\w+\n {2}at img/,
    )
    await context.close()
  })

  it("checks a page's other color scheme for the color rules alone, and still fails its contrast", async () => {
    const context = await newContext(browser)
    const page = await context.newPage()
    // Readable in light, unreadable in dark; the image without alt is there in both.
    await page.setContent(
      '<!doctype html><html lang="en"><title>t</title><style>p{color:#111;background:#fff}' +
        '@media (prefers-color-scheme: dark){p{color:#222;background:#111}}</style>' +
        '<main><p>Some text to read</p><img src="x.png"></main>',
    )
    await page.emulateMedia({ colorScheme: 'dark' })
    const narrowed = expectNoA11yViolations(page, { rules: COLOR_RULES })
    await expect(narrowed).rejects.toThrow(/color-contrast \(serious\)/)
    await expect(narrowed).rejects.not.toThrow(/image-alt/)
    await page.emulateMedia({ colorScheme: 'light' })
    await expect(expectNoA11yViolations(page, { rules: COLOR_RULES })).resolves.toBeUndefined()
    await context.close()
  })

  it('runs the API, ready with its database and Redis', async () => {
    const res = await fetch(`${stack.apiUrl}/readyz`)
    expect(res.status).toBe(200)
  })

  it('runs the worker: a sign-up is emailed a link that opens the web app', async () => {
    const email = 'new-user@example.com'
    const signUp = await fetch(`${stack.apiUrl}/v1/auth/sign-up`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email, password: 'correct horse battery staple', name: 'Nia' }),
    })
    expect(signUp.status).toBe(201)
    const message = await waitForEmail(stack.smtp, { to: email, subject: 'Confirm' })
    expect(linkIn(message, stack.webUrl)).toMatch(
      new RegExp(`^${stack.webUrl}/verify-email\\?token=[\\w-]{43}$`),
    )
    const [user] = await stack.sql('SELECT name FROM users WHERE email = $1', [email])
    expect(user?.name).toBe('Nia')
  })

  it('waitForEmail gives up at its deadline, naming what did arrive', async () => {
    await expect(
      waitForEmail(stack.smtp, { to: 'nobody@example.com', timeoutMs: 300 }),
    ).rejects.toThrow(
      /timed out after 300 ms waiting for an email to nobody@example.com:\nwhat arrived:\n- to new-user@example.com: Confirm your email address/,
    )
  })

  it("totp() gives the code the API's MFA set-up accepts", async () => {
    const email = 'mfa-user@example.com'
    const signUp = await stack.api.inject({
      method: 'POST',
      url: '/v1/auth/sign-up',
      payload: { email, password: 'correct horse battery staple', name: 'Mo' },
    })
    await stack.sql('UPDATE users SET email_verified_at = now() WHERE email = $1', [email])
    const headers = { authorization: `Bearer ${signUp.json().token}` }
    const setup = await stack.api.inject({
      method: 'POST',
      url: '/v1/auth/mfa/totp/setup',
      headers,
    })
    const confirm = await stack.api.inject({
      method: 'POST',
      url: '/v1/auth/mfa/totp/confirm',
      headers,
      payload: { code: totp(setup.json().secret) },
    })
    expect(confirm.statusCode).toBe(200)
  })

  it('stop() ends every process, frees every port and drops the database', async () => {
    const ports = [stack.webUrl, stack.apiUrl].map((url) => Number(new URL(url).port))
    ports.push(stack.smtp.port)
    const pids = Object.values(stack.pids)
    expect(pids).toHaveLength(2)
    await stack.stop()
    for (const pid of pids) expect(isAlive(pid)).toBe(false)
    for (const port of ports) expect(await isPortInUse(port)).toBe(false)
    await expect(stack.sql('SELECT 1')).rejects.toThrow(/does not exist/)
  })
})
