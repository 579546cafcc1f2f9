import type { Browser, Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  launchBrowser,
  linkIn,
  newContext,
  type Stack,
  startedTogether,
  startStack,
  stopTogether,
  totp,
  waitForEmail,
} from './harness/index.ts'
import { createUser, PASSWORD } from './helpers.ts'

// An account's security, clicked through: two-factor enrolment with the QR code's key and
// recovery codes shown once, sign-in with a code and with a recovery code, a session
// revoked from another one, a forgotten password reset by email, two-factor turned off
// behind a step-up, and signing out everywhere.
let stack: Stack
let browser: Browser
let user: Awaited<ReturnType<typeof createUser>>
let secret = ''
let recoveryCodes: string[] = []
const NEW_PASSWORD = 'a brand new passphrase'

beforeAll(async () => {
  ;[stack, browser] = await startedTogether(startStack(), launchBrowser())
  user = await createUser(stack)
})
afterAll(async () => {
  await stopTogether(stack, browser)
})

const newPage = async () => (await newContext(browser)).newPage()

async function passwordStep(page: Page, password = PASSWORD) {
  await page.goto(`${stack.webUrl}/sign-in?next=%2Faccount%2Fsecurity`)
  await page.getByLabel('Email').fill(user.email)
  await page.getByLabel('Password').fill(password)
  await page.getByRole('button', { name: 'Sign in' }).click()
}

async function withRecoveryCode(page: Page, code: string) {
  await page.waitForURL(/\/sign-in\/mfa/)
  await page.getByRole('button', { name: 'Use a recovery code' }).click()
  await page.getByLabel('Recovery code').fill(code)
  await page.getByRole('button', { name: 'Verify' }).click()
  await page.waitForURL(`${stack.webUrl}/account/security`)
}

const sessionCount = async () =>
  Number(
    (await stack.sql('SELECT count(*) AS n FROM sessions WHERE user_id = $1', [user.id]))[0]?.n,
  )

let first: Page

describe("an account's security", { shuffle: false, timeout: 90_000 }, () => {
  it('turns on two-factor authentication with the key and gets recovery codes once', async () => {
    first = await newPage()
    await passwordStep(first)
    await first.waitForURL(`${stack.webUrl}/account/security`)
    await first.getByRole('button', { name: 'Set up two-factor authentication' }).click()
    await first.getByRole('img', { name: 'QR code for your authenticator app' }).waitFor()
    secret = await first.getByLabel('Or enter this setup key by hand').inputValue()
    expect(secret).toMatch(/^[A-Z2-7]{32}$/)
    await first.getByLabel('Authentication code').fill('000000')
    await first.getByRole('button', { name: 'Turn on two-factor authentication' }).click()
    await first.getByRole('main').getByRole('alert').waitFor()
    await first.getByLabel('Authentication code').fill(totp(secret))
    await first.getByRole('button', { name: 'Turn on two-factor authentication' }).click()
    recoveryCodes = (await first.getByLabel('Recovery codes').inputValue()).split('\n')
    expect(recoveryCodes).toHaveLength(10)
    // Once: a reload shows that two-factor is on, and no codes.
    await first.reload()
    await first.getByText('Two-factor authentication is on.').waitFor()
    expect(await first.content()).not.toContain(recoveryCodes[0])
  })

  it('signs out, and signs in again with a code from the app', async () => {
    await first.getByRole('button', { name: /Account menu/ }).click()
    await first.getByRole('menuitem', { name: 'Sign out' }).click()
    await first.waitForURL(/\/sign-in\?signedOut=1/)
    await passwordStep(first)
    await first.waitForURL(/\/sign-in\/mfa/)
    // The step enrolment used is spent; the app shows the next one 30 s later.
    await first.getByLabel('Authentication code').fill(totp(secret, Date.now() + 30_000))
    await first.getByRole('button', { name: 'Verify' }).click()
    await first.waitForURL(`${stack.webUrl}/account/security`)
  })

  it('signs in elsewhere with a recovery code, and revokes the first session from there', async () => {
    const second = await newPage()
    await passwordStep(second)
    await withRecoveryCode(second, recoveryCodes[0] as string)
    const others = second.getByRole('button', { name: /^Revoke session on/ })
    // The list streams in after the page's outline: wait for it, not for the URL.
    await others.first().waitFor()
    expect(await others.count()).toBe(1)
    await others.click()
    await expect.poll(() => others.count()).toBe(0)
    await first.reload()
    await first.waitForURL(/\/sign-in\?.*reason=expired/)
    // A recovery code works once.
    const third = await newPage()
    await passwordStep(third)
    await third.waitForURL(/\/sign-in\/mfa/)
    await third.getByRole('button', { name: 'Use a recovery code' }).click()
    await third.getByLabel('Recovery code').fill(recoveryCodes[0] as string)
    await third.getByRole('button', { name: 'Verify' }).click()
    await third.getByRole('main').getByRole('alert').waitFor()
    await Promise.all([second.context().close(), third.context().close()])
  })

  it('resets a forgotten password by the emailed link', async () => {
    const page = await newPage()
    await page.goto(`${stack.webUrl}/sign-in`)
    await page.getByRole('link', { name: 'Forgot your password?' }).click()
    await page.getByRole('heading', { name: 'Forgot your password?' }).waitFor()
    await page.getByLabel('Email').fill(user.email)
    await page.getByRole('button', { name: 'Send reset link' }).click()
    await page.getByText(`If an account uses ${user.email}`).waitFor()
    const link = linkIn(
      await waitForEmail(stack.smtp, { to: user.email, subject: /reset/i }),
      stack.webUrl,
    )
    await page.goto(link)
    await page.getByLabel('New password').fill(NEW_PASSWORD)
    await page.getByRole('button', { name: 'Set new password' }).click()
    await page.waitForURL(/\/sign-in\?reset=1/)
    expect(await sessionCount()).toBe(0)
    // The link is single-use.
    await page.goto(link)
    await page.getByLabel('New password').fill('yet another passphrase')
    await page.getByRole('button', { name: 'Set new password' }).click()
    await page.getByRole('link', { name: 'Ask for a new link' }).waitFor()
    await passwordStep(page, PASSWORD)
    await page.getByRole('main').getByRole('alert').waitFor()
    await passwordStep(page, NEW_PASSWORD)
    await withRecoveryCode(page, recoveryCodes[1] as string)
    first = page
  })

  it('turns two-factor off after confirming it is you, then signs out everywhere', async () => {
    // An old sign-in: the API wants the second factor again before this.
    await stack.sql(
      "UPDATE sessions SET created_at = now() - interval '1 hour', mfa_verified_at = now() - interval '1 hour' WHERE user_id = $1",
      [user.id],
    )
    await first.getByRole('button', { name: 'Turn off two-factor authentication' }).click()
    await first
      .getByRole('alertdialog')
      .getByRole('button', { name: 'Turn off two-factor authentication' })
      .click()
    const dialog = first.getByRole('dialog', { name: 'Confirm it is you' })
    await dialog.getByRole('button', { name: 'Use an authentication code' }).click()
    await dialog.getByLabel('Authentication or recovery code').fill(recoveryCodes[2] as string)
    await dialog.getByRole('button', { name: 'Confirm' }).click()
    await expect
      .poll(
        async () =>
          (
            await stack.sql('SELECT count(*) AS n FROM mfa_factors WHERE user_id = $1', [user.id])
          )[0]?.n,
      )
      .toBe('0')
    await first.reload()
    await first.getByRole('button', { name: 'Set up two-factor authentication' }).waitFor()

    const other = await newPage()
    await passwordStep(other, NEW_PASSWORD)
    await other.waitForURL(`${stack.webUrl}/account/security`)
    expect(await sessionCount()).toBe(2)
    await first.getByRole('button', { name: 'Sign out everywhere' }).click()
    await first.waitForURL(/\/sign-in\?signedOut=1/)
    expect(await sessionCount()).toBe(0)
    await other.reload()
    await other.waitForURL(/\/sign-in\?.*reason=expired/)
  })
})
