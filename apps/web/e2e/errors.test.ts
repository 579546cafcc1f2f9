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
import { createOrganization, createUser, signIn } from './helpers.ts'

// What a user sees when things go wrong: a rate limit with the time to wait, a change
// someone else made first (412) offered as a choice with nothing typed lost, and the API
// down: a clear message, never a stack trace or a blank page.
let stack: Stack
let browser: Browser

beforeAll(async () => {
  ;[stack, browser] = await startedTogether(
    // A strict sign-in limit per address; the web server trusts one proxy, so each test's
    // browser comes from an address of its own (its X-Forwarded-For) and only the first
    // test spends its budget.
    startStack({
      worker: false,
      apiEnv: { AUTH_RATE_LIMIT_PER_MINUTE: '3' },
      webEnv: { WEB_TRUST_PROXY_HOPS: '1' },
    }),
    launchBrowser(),
  )
})
let address = 0
/** A browser behind the trusted proxy, from an address no other test uses. */
const newPage = async () =>
  (
    await newContext(browser, { extraHTTPHeaders: { 'x-forwarded-for': `203.0.113.${++address}` } })
  ).newPage()

afterAll(async () => {
  await stopTogether(stack, browser)
})

describe('errors a user can meet', { shuffle: false, timeout: 60_000 }, () => {
  it('shows a wrong password next to the form, and a rate limit with the time to wait', async () => {
    const user = await createUser(stack)
    const page = await newPage()
    await page.goto(`${stack.webUrl}/sign-in`)
    await page.getByLabel('Email').fill(user.email)
    await page.getByLabel('Password').fill('not the right one')
    // The form's alert (Next's route announcer is an alert too).
    const alert = page.getByRole('main').getByRole('alert')
    let text = ''
    for (let attempt = 0; attempt < 6 && !/Try again in/.test(text); attempt += 1) {
      // This attempt's answer, not the alert an earlier one left up.
      const answered = page.waitForResponse((r) => !!r.request().headers()['next-action'])
      await page.getByRole('button', { name: 'Sign in' }).click()
      await answered
      await alert.waitFor()
      await expect.poll(async () => (text = (await alert.textContent()) ?? '')).not.toBe('')
      if (attempt === 0) expect(text).toMatch(/email or password/i)
    }
    expect(text).toMatch(/Try again in \d+ (seconds|minutes)\./)
    await page.context().close()
  })

  it('offers a choice when someone else saved the task first, keeping what was typed', async () => {
    const user = await createUser(stack)
    const org = await createOrganization(stack, user.token, 'Conflicts Ltd')
    const auth = { authorization: `Bearer ${user.token}` }
    const project = (
      await stack.api.inject({
        method: 'POST',
        url: `/v1/orgs/${org.id}/projects`,
        headers: auth,
        payload: { name: 'P' },
      })
    ).json() as { id: string }
    const task = (
      await stack.api.inject({
        method: 'POST',
        url: `/v1/orgs/${org.id}/projects/${project.id}/tasks`,
        headers: auth,
        payload: { title: 'Original title' },
      })
    ).json() as { id: string }
    const page = await newPage()
    await page.goto(`${stack.webUrl}/orgs/${org.id}/projects/${project.id}/tasks/${task.id}`)
    await signIn(page, stack, user.email)
    await page.getByLabel('Title').fill('My title')
    // Meanwhile, someone else saves.
    const theirs = await stack.api.inject({
      method: 'PATCH',
      url: `/v1/orgs/${org.id}/projects/${project.id}/tasks/${task.id}`,
      headers: { ...auth, 'if-match': '"1"' },
      payload: { title: 'Their title' },
    })
    expect(theirs.statusCode).toBe(200)
    await page.getByRole('button', { name: 'Save task' }).click()
    await page.getByText('Someone else changed this task').waitFor()
    expect(await page.getByLabel('Title').inputValue()).toBe('My title')
    await page.getByRole('button', { name: 'Save mine over theirs' }).click()
    await page.getByText('Saved.', { exact: true }).waitFor()
    const [row] = await stack.sql('SELECT title FROM tasks WHERE id = $1', [task.id])
    expect(row?.title).toBe('My title')
    await page.context().close()
  })

  it('says the service is unavailable when the API is down, on a form and on a page', async () => {
    const user = await createUser(stack)
    const page = await newPage()
    await page.goto(`${stack.webUrl}/sign-in`)
    await page.getByLabel('Email').fill(user.email)
    await page.getByLabel('Password').fill('whatever it is')
    // Last in this file: the API stays down.
    await stack.api.close()
    await page.getByRole('button', { name: 'Sign in' }).click()
    await page
      .getByRole('alert')
      .filter({ hasText: 'The service is unavailable right now' })
      .waitFor()
    // A page that needs the API shows the error page, not a stack trace.
    await page.context().addCookies([{ name: 'groundwork_session', value: 'x', url: stack.webUrl }])
    await page.goto(`${stack.webUrl}/orgs`)
    await page.getByRole('heading', { name: 'Something went wrong' }).waitFor()
    expect(await page.content()).not.toMatch(/ECONNREFUSED|at async|node_modules/)
    await page.context().close()
  })
})
