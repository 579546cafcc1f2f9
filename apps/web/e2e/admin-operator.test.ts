import type { Browser, Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  launchBrowser,
  newContext,
  type Stack,
  startedTogether,
  startStack,
  stopTogether,
  waitForEmail,
} from './harness/index.ts'
import {
  callAs,
  createOrganization,
  createUser,
  fileDeadLetter,
  makeOperator,
  signIn,
  startWebhookReceiver,
} from './helpers.ts'

// What an owner undoes in the integrations (a key revoked, an endpoint edited, its secret
// rotated, the endpoint deleted) and what a platform operator does with dead letters;
// each checked in the page and through the API.
let stack: Stack
let browser: Browser
let receiver: Awaited<ReturnType<typeof startWebhookReceiver>>
let page: Page
let owner: Awaited<ReturnType<typeof createUser>>
let orgId = ''

beforeAll(async () => {
  receiver = await startWebhookReceiver()
  ;[stack, browser] = await startedTogether(startStack(), launchBrowser())
  owner = await createUser(stack, { name: 'Olivia Owner' })
  orgId = (await createOrganization(stack, owner.token, 'Acme Works')).id
  const context = await newContext(browser)
  page = await context.newPage()
  await signIn(page, stack, owner.email)
})
afterAll(async () => {
  await stopTogether(stack, browser)
  await receiver?.close()
})

describe('an owner and an operator', { shuffle: false, timeout: 90_000 }, () => {
  it('revokes an API key, which the API then refuses', async () => {
    const { key } = await callAs<{ key: string }>(
      stack,
      owner.token,
      'POST',
      `/v1/orgs/${orgId}/api-keys`,
      { name: 'Old deploys', scopes: ['projects:read'] },
    )
    const projects = () =>
      fetch(`${stack.apiUrl}/v1/orgs/${orgId}/projects`, {
        headers: { authorization: `Bearer ${key}` },
      })
    expect((await projects()).status).toBe(200)
    await page.goto(`${stack.webUrl}/orgs/${orgId}/api-keys`)
    await page
      .getByRole('list', { name: 'API keys' })
      .getByRole('listitem')
      .filter({ hasText: 'Old deploys' })
      .getByRole('button', { name: 'Revoke' })
      .click()
    await page
      .getByRole('alertdialog', { name: 'Revoke “Old deploys”?' })
      .getByRole('button', { name: 'Revoke' })
      .click()
    await page.getByText('No API keys yet.').waitFor()
    expect((await projects()).status).toBe(401)
  })

  it("edits an endpoint's events, rotates its secret and deletes it", async () => {
    const url = `${receiver.url}/hooks/edited`
    const base = `/v1/orgs/${orgId}/webhook-endpoints`
    const created = await callAs<{ id: string; secret: string }>(stack, owner.token, 'POST', base, {
      url,
      events: ['project.created'],
    })
    const endpoint = () =>
      callAs<{ events: string[]; previousSecretExpiresAt: string | null }>(
        stack,
        owner.token,
        'GET',
        `${base}/${created.id}`,
      )
    await page.goto(`${stack.webUrl}/orgs/${orgId}/webhooks/${created.id}`)
    await page.getByRole('checkbox', { name: 'task.created' }).check()
    await page.getByRole('button', { name: 'Save endpoint' }).click()
    await page.getByRole('main').getByRole('status').getByText('Saved.').waitFor()
    expect((await endpoint()).events.sort()).toEqual(['project.created', 'task.created'])

    expect((await endpoint()).previousSecretExpiresAt).toBeNull()
    await page.getByRole('button', { name: 'Rotate secret' }).click()
    const secret = await page.getByLabel('New signing secret').inputValue()
    expect(secret).toMatch(/^whsec_/)
    expect(secret).not.toBe(created.secret)
    expect((await endpoint()).previousSecretExpiresAt).not.toBeNull()

    await page.getByRole('button', { name: 'Delete endpoint' }).click()
    await page
      .getByRole('alertdialog', { name: 'Delete this endpoint?' })
      .getByRole('button', { name: 'Delete endpoint' })
      .click()
    await page.waitForURL(`${stack.webUrl}/orgs/${orgId}/webhooks`)
    await page.getByRole('heading', { name: 'Webhooks', level: 1 }).waitFor()
    expect(await page.getByRole('link', { name: url }).count()).toBe(0)
    await callAs(stack, owner.token, 'GET', `${base}/${created.id}`, undefined, 404)
  })

  it('replays one dead letter, purges another and opens the queue dashboard', async () => {
    await makeOperator(stack, owner.id)
    // Replayed, this job sends an email: the proof that it was queued again and ran.
    const replayTo = 'replayed@example.com'
    await fileDeadLetter(stack, 'email-replay-me', {
      queue: 'email',
      jobId: 'replay-me',
      name: 'email.send',
      // The job envelope (see defineJob in @repo/jobs): payload version, payload, context.
      data: {
        v: 2,
        context: {},
        payload: {
          template: 'webhook-endpoint-disabled',
          to: replayTo,
          name: 'Olivia Owner',
          url: `${stack.webUrl}/orgs/${orgId}/webhooks`,
          organizationName: 'Acme Works',
          endpointUrl: 'https://example.com/hooks',
          failures: 3,
        },
      },
      error: 'SMTP 421: service not available',
      stack: 'Error: SMTP 421: service not available',
      attempts: [{ attempt: 1, stack: 'Error: SMTP 421' }],
      attemptsMade: 5,
      options: { attempts: 5 },
      failedAt: '2031-01-02T03:04:05.000Z',
      firstEnqueuedAt: '2031-01-02T03:00:00.000Z',
    })
    await fileDeadLetter(stack, 'webhook-deliveries-purge-me', {
      queue: 'webhook-deliveries',
      jobId: 'purge-me',
      name: 'webhook.deliver',
      data: { deliveryId: 'none' },
      error: 'HTTP 500',
      stack: 'Error: HTTP 500',
      attempts: [{ attempt: 1, stack: 'Error: HTTP 500' }],
      attemptsMade: 5,
      options: { attempts: 5 },
      failedAt: '2031-01-02T03:04:05.000Z',
      firstEnqueuedAt: '2031-01-02T03:00:00.000Z',
    })
    const deadLetters = async () =>
      (
        await callAs<{ data: { id: string }[] }>(
          stack,
          owner.token,
          'GET',
          '/v1/admin/dead-letters',
        )
      ).data.map((letter) => letter.id)

    await page.goto(`${stack.webUrl}/admin/dead-letters`)
    await page.getByRole('link', { name: 'email / email.send' }).click()
    await page.getByRole('heading', { name: 'email / email.send' }).waitFor()
    await page.getByRole('button', { name: 'Replay' }).click()
    await page.getByText('Replayed: the job is queued again.').waitFor()
    expect(await deadLetters()).toEqual(['webhook-deliveries-purge-me'])
    expect(await page.getByRole('link', { name: 'email / email.send' }).count()).toBe(0)
    await waitForEmail(stack.smtp, { to: replayTo })

    await page.getByRole('link', { name: 'webhook-deliveries / webhook.deliver' }).click()
    await page.getByRole('heading', { name: 'webhook-deliveries / webhook.deliver' }).waitFor()
    await page.getByRole('button', { name: 'Purge' }).click()
    await page
      .getByRole('alertdialog', { name: 'Purge this dead letter?' })
      .getByRole('button', { name: 'Purge' })
      .click()
    await page.getByText('No dead letters.', { exact: false }).waitFor()
    expect(await deadLetters()).toEqual([])

    const entering = page.waitForRequest((request) => request.url().includes('/admin/queues/enter'))
    await page.getByRole('button', { name: 'Open the queue dashboard' }).click()
    const target = new URL((await entering).url())
    // The API builds the link from API_PUBLIC_URL, else its host and listening port: in
    // this stack the API listens on a port of its own, which the link must name.
    expect(`${target.origin}/`).toBe(`${new URL(stack.apiUrl).origin}/`)
    await page.waitForURL(`${stack.apiUrl}/admin/queues/enter?**`)
    await page.click('#open')
    await page.waitForURL(`${stack.apiUrl}/admin/queues/`)
    await page.getByText('webhook-deliveries').first().waitFor({ timeout: 20_000 })
  })
})
