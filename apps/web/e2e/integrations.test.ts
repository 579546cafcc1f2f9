import { waitUntil } from '@repo/testing'
import type { Browser, Page } from 'playwright-core'
import { Webhook } from 'standardwebhooks'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  launchBrowser,
  newContext,
  type Stack,
  startedTogether,
  startStack,
  stopTogether,
} from './harness/index.ts'
import {
  createOrganization,
  createUser,
  PASSWORD,
  signIn,
  startWebhookReceiver,
} from './helpers.ts'

// What a developer customer does next: an API key made in the UI and used against the
// API, a webhook endpoint whose deliveries arrive and show in the log, and the step-up
// the API asks for before either when the sign-in is not recent.
let stack: Stack
let browser: Browser
let receiver: Awaited<ReturnType<typeof startWebhookReceiver>>
let receiverUrl = ''
let page: Page
let orgId = ''

beforeAll(async () => {
  ;[stack, browser] = await startedTogether(startStack(), launchBrowser())
  receiver = await startWebhookReceiver()
  receiverUrl = `${receiver.url}/hooks`
  const user = await createUser(stack)
  orgId = (await createOrganization(stack, user.token, 'Integrations Inc')).id
  page = await (await newContext(browser)).newPage()
  await page.goto(`${stack.webUrl}/orgs/${orgId}/api-keys`)
  await signIn(page, stack, user.email)
})
afterAll(async () => {
  await stopTogether(stack, browser)
  await receiver?.close()
})

describe('a developer', { shuffle: false, timeout: 90_000 }, () => {
  it('creates an API key, sees it once, and uses it against the API within its scopes', async () => {
    await page.getByLabel('Key name').fill('CI deploys')
    await page.getByRole('button', { name: 'Create API key' }).click()
    const shown = page.getByLabel('API key “CI deploys”')
    await shown.waitFor()
    const key = await shown.inputValue()
    expect(key.length).toBeGreaterThan(20)
    const call = (path: string, init: RequestInit = {}) =>
      fetch(`${stack.apiUrl}${path}`, {
        ...init,
        headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      })
    expect((await call(`/v1/orgs/${orgId}/projects`)).status).toBe(200)
    // projects:read only, as created: writing is refused.
    const write = await call(`/v1/orgs/${orgId}/projects`, {
      method: 'POST',
      body: JSON.stringify({ name: 'From the key' }),
    })
    expect(write.status).toBe(403)
    // Shown once: after a reload only its prefix is listed.
    await page.reload()
    await page.getByRole('list', { name: 'API keys' }).getByText('CI deploys').waitFor()
    expect(await page.content()).not.toContain(key)
  })

  it('asks to confirm it is you before a sensitive action when the sign-in is old, then finishes it', async () => {
    await stack.sql("UPDATE sessions SET created_at = now() - interval '1 hour'")
    await page.getByLabel('Key name').fill('After step-up')
    await page.getByRole('button', { name: 'Create API key' }).click()
    const dialog = page.getByRole('dialog', { name: 'Confirm it is you' })
    await dialog.getByLabel('Password').fill('wrong password!')
    await dialog.getByRole('button', { name: 'Confirm' }).click()
    await dialog.getByRole('alert').waitFor()
    await dialog.getByLabel('Password').fill(PASSWORD)
    await dialog.getByRole('button', { name: 'Confirm' }).click()
    // The form's input survived: the key is made with the name typed before the dialog.
    await page.getByLabel('API key “After step-up”').waitFor()
  })

  it('adds a webhook endpoint, receives a signed delivery, reads it in the log and redelivers it', async () => {
    await page.goto(`${stack.webUrl}/orgs/${orgId}/webhooks`)
    await page.getByLabel('Endpoint URL').fill(receiverUrl)
    await page.getByRole('button', { name: 'Add endpoint' }).click()
    const secret = await page.getByLabel('Signing secret').inputValue()
    expect(secret).toMatch(/^whsec_/)

    // An event: a project created in the UI.
    await page.goto(`${stack.webUrl}/orgs/${orgId}/projects/new`)
    await page.getByLabel('Name').fill('Hooked')
    await page.getByRole('button', { name: 'Create project' }).click()
    await page.getByRole('heading', { name: 'Hooked' }).waitFor()
    await waitUntil(() => receiver.requests.length >= 1, {
      what: 'the webhook delivery',
      timeoutMs: 20_000,
    })
    const [delivery] = receiver.requests
    expect(JSON.parse(delivery?.body ?? '{}').type).toBe('project.created')
    // Signed with the secret the page showed once, as Standard Webhooks' own library checks.
    const headers = Object.fromEntries(
      Object.entries(delivery?.headers ?? {}).map(([name, value]) => [name, String(value)]),
    )
    expect(() => new Webhook(secret).verify(delivery?.body ?? '', headers)).not.toThrow()

    await page.goto(`${stack.webUrl}/orgs/${orgId}/webhooks`)
    await page.getByRole('link', { name: receiverUrl }).click()
    await page.getByRole('heading', { name: 'Deliveries' }).waitFor()
    await expect
      .poll(
        async () => {
          await page.reload()
          return page.getByRole('list', { name: 'Deliveries' }).getByText('succeeded').count()
        },
        { timeout: 20_000 },
      )
      .toBe(1)
    await page.getByRole('link', { name: 'project.created' }).click()
    await page.getByRole('list', { name: 'Attempts' }).getByText('HTTP 200').waitFor()
    await page.getByRole('button', { name: 'Redeliver' }).click()
    await page.getByText('Queued for delivery again.').waitFor()
    await waitUntil(() => receiver.requests.length >= 2, {
      what: 'the redelivery',
      timeoutMs: 20_000,
    })
    expect(receiver.requests[1]?.headers['webhook-id']).toBe(delivery?.headers['webhook-id'])
  })
})
