import type { Browser } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  launchBrowser,
  linkIn,
  newContext,
  type Stack,
  startedTogether,
  startStack,
  stopTogether,
  waitForEmail,
} from './harness/index.ts'
import { createOrganization, createUser, PASSWORD, signIn, uniqueEmail } from './helpers.ts'

// The first journey of every customer, clicked through in Chromium on the real stack:
// sign up, verify by the emailed link, create an organization, a project and tasks, then
// bring a colleague in by invitation and watch the member role's limits hold.
let stack: Stack
let browser: Browser

beforeAll(async () => {
  ;[stack, browser] = await startedTogether(startStack(), launchBrowser())
})
afterAll(async () => {
  await stopTogether(stack, browser)
})

const owner = { email: uniqueEmail('founder'), name: 'Ada Founder' }
const colleague = { email: uniqueEmail('colleague'), name: 'Grace Colleague' }
let orgUrl = ''
let projectUrl = ''

describe('a new customer', { shuffle: false, timeout: 90_000 }, () => {
  it('signs up, verifies the address by the emailed link and creates an organization', async () => {
    const context = await newContext(browser)
    const page = await context.newPage()
    await page.goto(stack.webUrl)
    await page.getByRole('link', { name: 'Sign up' }).click()
    await page.getByLabel('Name').fill(owner.name)
    await page.getByLabel('Email').fill(owner.email)
    await page.getByLabel('Password').fill('short')
    await page.getByRole('button', { name: 'Sign up' }).click()
    // The API's password rule, next to its field, in words.
    await page.getByText(/Password must be at least 10 characters/).waitFor()
    await page.getByLabel('Password').fill(PASSWORD)
    await page.getByRole('button', { name: 'Sign up' }).click()
    await page.waitForURL(/\/orgs\/new/)
    await page.getByText('Your account is ready').waitFor()

    const email = await waitForEmail(stack.smtp, { to: owner.email })
    await page.goto(linkIn(email, stack.webUrl))
    await page.getByRole('button', { name: 'Verify email' }).click()
    await page.getByText('Your email is verified.').waitFor()
    const [row] = await stack.sql('SELECT email_verified_at FROM users WHERE email = $1', [
      owner.email,
    ])
    expect(row?.email_verified_at).toBeInstanceOf(Date)

    await page.goto(`${stack.webUrl}/orgs/new`)
    await page.getByRole('button', { name: 'Create organization' }).click()
    await page.getByText('Organization name is required').waitFor()
    await page.getByLabel('Organization name').fill('Analytical Engines')
    await page.getByRole('button', { name: 'Create organization' }).click()
    await page.waitForURL(/\/orgs\/[0-9a-f-]{36}\/projects$/)
    orgUrl = page.url().replace(/\/projects$/, '')
    await page.getByText('No projects yet.').waitFor()
    await context.close()
  })

  it('creates a project and tasks, and changes a task in place', async () => {
    const context = await newContext(browser)
    const page = await context.newPage()
    await page.goto(`${orgUrl}/projects`)
    await signIn(page, stack, owner.email)
    await page.getByRole('link', { name: 'Create project' }).click()
    await page.getByLabel('Name').fill('Difference Engine')
    await page.getByLabel('Description').fill('Tabulating polynomial functions.')
    await page.getByRole('button', { name: 'Create project' }).click()
    await page.getByRole('heading', { name: 'Difference Engine' }).waitFor()
    projectUrl = page.url()

    for (const title of ['Cut the gears', 'Print the tables']) {
      await page.getByLabel('Task title').fill(title)
      await page.getByRole('button', { name: 'Add task' }).click()
      await page.getByRole('link', { name: title }).waitFor()
      // Ready for the next one.
      await expect.poll(() => page.getByLabel('Task title').inputValue()).toBe('')
    }
    await page.getByLabel('Status of Cut the gears').selectOption('in_progress')
    await expect
      .poll(
        async () =>
          (await stack.sql("SELECT status FROM tasks WHERE title = 'Cut the gears'"))[0]?.status,
      )
      .toBe('in_progress')
    await page.reload()
    expect(await page.getByLabel('Status of Cut the gears').inputValue()).toBe('in_progress')
    await context.close()
  })

  it('invites a colleague who signs up from the link, verifies, accepts and works as a member', async () => {
    const ownerContext = await newContext(browser)
    const ownerPage = await ownerContext.newPage()
    await ownerPage.goto(`${orgUrl}/members`)
    await signIn(ownerPage, stack, owner.email)
    await ownerPage.getByLabel('Email address').fill(colleague.email)
    await ownerPage.getByRole('button', { name: 'Send invitation' }).click()
    await ownerPage.getByText(`Invitation sent to ${colleague.email}.`).waitFor()
    await ownerPage
      .getByRole('list', { name: 'Pending invitations' })
      .getByText(colleague.email)
      .waitFor()

    const invitation = linkIn(
      await waitForEmail(stack.smtp, { to: colleague.email, subject: /invit/i }),
      stack.webUrl,
    )
    const context = await newContext(browser)
    const page = await context.newPage()
    await page.goto(invitation)
    await page.getByRole('heading', { name: 'You are invited' }).waitFor()
    await page.getByRole('link', { name: 'Create an account' }).click()
    await page.getByLabel('Name').fill(colleague.name)
    await page.getByLabel('Email').fill(colleague.email)
    await page.getByLabel('Password').fill(PASSWORD)
    await page.getByRole('button', { name: 'Sign up' }).click()
    // Back on the invitation, signed in; accepting needs a verified address first.
    await page.getByRole('button', { name: 'Accept invitation' }).click()
    await page.getByRole('alert').filter({ hasText: /verif/i }).waitFor()
    await page.goto(
      linkIn(
        await waitForEmail(stack.smtp, { to: colleague.email, subject: /verif|confirm/i }),
        stack.webUrl,
      ),
    )
    await page.getByRole('button', { name: 'Verify email' }).click()
    await page.getByText('Your email is verified.').waitFor()
    await page.goto(invitation)
    await page.getByRole('button', { name: 'Accept invitation' }).click()
    await page.waitForURL(`${orgUrl}/projects`)

    // A member works on tasks but sees no admin sections, and may not delete the project.
    const nav = page.getByRole('navigation', { name: 'Organization' })
    await nav.getByRole('link', { name: 'Projects' }).waitFor()
    expect(await nav.getByRole('link', { name: 'API keys' }).count()).toBe(0)
    expect(await nav.getByRole('link', { name: 'Audit log' }).count()).toBe(0)
    await page.goto(projectUrl)
    await page.getByLabel('Task title').fill('Check the tables')
    await page.getByRole('button', { name: 'Add task' }).click()
    await page.getByRole('link', { name: 'Check the tables' }).waitFor()
    // Members may edit a project, not delete it: the settings offer no Delete (the API's
    // refusal is tested with the API).
    await page.goto(`${projectUrl}/settings`)
    await page.getByRole('button', { name: 'Save project' }).waitFor()
    expect(await page.getByRole('button', { name: 'Delete project' }).count()).toBe(0)

    // The owner sees the new member in the list.
    await ownerPage.reload()
    await ownerPage.getByRole('list', { name: 'Members' }).getByText(colleague.email).waitFor()
    await ownerContext.close()
    await context.close()
  })
})

describe('an invitation opened while signed in as someone else', { timeout: 90_000 }, () => {
  it('says it was sent to another address, and is accepted after switching account', async () => {
    const owner = await createUser(stack)
    const org = await createOrganization(stack, owner.token, 'Switch Accounts Co')
    const invitee = await createUser(stack, { name: 'Right Person' })
    const other = await createUser(stack, { name: 'Wrong Person' })
    const sent = await stack.api.inject({
      method: 'POST',
      url: `/v1/orgs/${org.id}/invitations`,
      headers: { authorization: `Bearer ${owner.token}` },
      payload: { email: invitee.email, role: 'member' },
    })
    expect(sent.statusCode, sent.body).toBe(201)
    const link = linkIn(
      await waitForEmail(stack.smtp, { to: invitee.email, subject: /invit/i }),
      stack.webUrl,
    )

    const page = await (await newContext(browser)).newPage()
    await page.goto(`${stack.webUrl}/sign-in`)
    await signIn(page, stack, other.email)
    await page.goto(link)
    await page.getByRole('button', { name: 'Accept invitation' }).click()
    await page.getByRole('alert').filter({ hasText: 'sent to another email address' }).waitFor()
    await page.getByRole('button', { name: `Not ${other.email}? Sign out` }).click()
    await page.waitForURL(/\/sign-in\?/)
    await signIn(page, stack, invitee.email)
    expect(page.url()).toBe(link)
    await page.getByRole('button', { name: 'Accept invitation' }).click()
    await page.waitForURL(`${stack.webUrl}/orgs/${org.id}/projects`)
    await page.context().close()
  })
})
