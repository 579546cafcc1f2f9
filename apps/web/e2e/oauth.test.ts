import { type FakeOAuthProvider, fakeOAuthEnv, startFakeOAuthProvider } from '@repo/testing'
import type { Browser } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  launchBrowser,
  newContext,
  type Stack,
  startedTogether,
  startStack,
  stopTogether,
} from './harness/index.ts'
import { uniqueEmail } from './helpers.ts'

// Signing in with a provider, through the browser: the buttons the API's configuration
// allows, an account made from the provider's profile, a callback that only finishes in
// the browser that started it, and an account that keeps a way to sign in.
let stack: Stack
let browser: Browser
let provider: FakeOAuthProvider

beforeAll(async () => {
  provider = await startFakeOAuthProvider()
  ;[stack, browser] = await startedTogether(
    startStack({ worker: false, apiEnv: fakeOAuthEnv(provider) }),
    launchBrowser(),
  )
})
afterAll(async () => {
  await stopTogether(stack, browser)
  await provider?.close()
})

describe('OAuth sign-in', { shuffle: false, timeout: 60_000 }, () => {
  it('creates an account from the provider and signs it in, keeping it its only way in', async () => {
    const email = uniqueEmail('octo')
    provider.setUser({ id: '4242', email, emailVerified: true, name: 'Octo Cat' })
    const page = await (await newContext(browser)).newPage()
    await page.goto(`${stack.webUrl}/sign-in`)
    await page.getByRole('button', { name: 'Continue with Google' }).waitFor()
    await page.getByRole('button', { name: 'Continue with GitHub' }).click()
    await page.waitForURL(`${stack.webUrl}/orgs/new`)
    const cookies = await page.context().cookies()
    expect(cookies.map((cookie) => cookie.name)).toContain('groundwork_session')
    // The binding is spent with the callback.
    expect(cookies.map((cookie) => cookie.name)).not.toContain('groundwork_oauth')

    await page.goto(`${stack.webUrl}/account`)
    await page.getByRole('list', { name: 'Connected accounts' }).getByText('GitHub').waitFor()
    await page.getByRole('link', { name: 'Email me a link to set a password' }).waitFor()
    await page.getByRole('button', { name: 'Disconnect' }).click()
    await page.getByRole('alertdialog').getByRole('button', { name: 'Disconnect' }).click()
    await page
      .getByRole('alertdialog')
      .getByRole('alert')
      .filter({ hasText: /only way to sign in/ })
      .waitFor()
    await page.context().close()
  })

  it('refuses a callback opened in another browser than the one that started it', async () => {
    provider.setUser({ id: '777', email: uniqueEmail('victim'), emailVerified: true, name: 'V' })
    const starter = await (await newContext(browser)).newPage()
    let callback = ''
    // The attacker starts a sign-in and stops before the callback, keeping its URL...
    await starter.route(`${provider.baseUrl}/authorize**`, async (route) => {
      const answer = await route.fetch({ maxRedirects: 0 })
      callback = answer.headers().location ?? ''
      await route.abort()
    })
    await starter.goto(`${stack.webUrl}/sign-in`)
    await starter.getByRole('button', { name: 'Continue with GitHub' }).click()
    await expect.poll(() => callback, { timeout: 15_000 }).toContain('code=')
    // ...and gets someone else's browser to open it.
    const victim = await (await newContext(browser)).newPage()
    await victim.goto(callback)
    await victim.waitForURL(/\/sign-in\?error=oauth_expired/)
    await victim.getByText('started in another browser').waitFor()
    expect((await victim.context().cookies()).map((c) => c.name)).not.toContain(
      'groundwork_session',
    )
    await Promise.all([starter.context().close(), victim.context().close()])
  })
})
