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
  waitForEmail,
} from './harness/index.ts'
import { callAs, createOrganization, createUser, joinByInvitation, signIn } from './helpers.ts'

// What an owner manages in an organization: its name and its deletion, its members'
// roles and departures, pending invitations, and the audit log that records all of it.
// Each step is checked in the page and in the database or the API.
let stack: Stack
let browser: Browser
let page: Page
let owner: Awaited<ReturnType<typeof createUser>>
let admin: Awaited<ReturnType<typeof createUser>>
let member: Awaited<ReturnType<typeof createUser>>
let leaver: Awaited<ReturnType<typeof createUser>>
let orgId = ''
let doomedId = ''

// A whole stack, then the data the tests need, with emails and a delivery waited for.
beforeAll(async () => {
  ;[stack, browser] = await startedTogether(startStack(), launchBrowser())
  ;[owner, admin, member, leaver] = await Promise.all([
    createUser(stack, { name: 'Olivia Owner' }),
    createUser(stack, { name: 'Ade Admin' }),
    createUser(stack, { name: 'Mina Member' }),
    createUser(stack, { name: 'Lee Leaver' }),
  ])
  orgId = (await createOrganization(stack, owner.token, 'Acme Works')).id
  doomedId = (await createOrganization(stack, owner.token, 'Doomed Co')).id
  await joinByInvitation(stack, owner.token, orgId, admin, 'admin')
  await joinByInvitation(stack, owner.token, orgId, member, 'member')
  await joinByInvitation(stack, owner.token, orgId, leaver, 'member')
  const context = await newContext(browser)
  page = await context.newPage()
  await signIn(page, stack, owner.email)
}, 180_000)
afterAll(async () => {
  await stopTogether(stack, browser)
})

const roleOf = async (userId: string) =>
  stack.sql(
    'SELECT role, removal_requested_at FROM memberships WHERE organization_id = $1 AND user_id = $2',
    [orgId, userId],
  )

describe('an owner', { shuffle: false, timeout: 90_000 }, () => {
  it('renames an organization, then deletes it only once its exact name is typed', async () => {
    await page.goto(`${stack.webUrl}/orgs/${doomedId}/settings`)
    // The submit button is enabled once React has hydrated the form. Filled before that,
    // hydration could put the old value back between fill's select-all and its typing
    // (a loaded CI run saved 'Doomed CoDoomed Renamed').
    const rename = page.getByRole('button', { name: 'Rename organization' })
    await expect.poll(() => rename.isEnabled()).toBe(true)
    const name = page.getByLabel('Organization name')
    await name.fill('Doomed Renamed')
    expect(await name.inputValue()).toBe('Doomed Renamed')
    await rename.click()
    await page.getByRole('main').getByRole('status').getByText('Saved.').waitFor()
    const [row] = await stack.sql('SELECT name FROM organizations WHERE id = $1', [doomedId])
    expect(row?.name).toBe('Doomed Renamed')
    // The header's switcher names the current organization. Should it not, the failure
    // says what the page showed instead.
    await page
      .getByRole('banner')
      .getByText('Doomed Renamed', { exact: true })
      .waitFor()
      .catch(async (error: Error) => {
        const [header, main] = await Promise.all([
          page.getByRole('banner').textContent(),
          page.getByRole('main').textContent(),
        ])
        throw new Error(`${error.message}\nat ${page.url()}: header ${header}; main ${main}`)
      })

    await page.getByRole('button', { name: 'Delete organization' }).click()
    const dialog = page.getByRole('alertdialog', { name: 'Delete Doomed Renamed?' })
    const confirm = dialog.getByRole('button', { name: 'Delete organization' })
    const typed = dialog.getByLabel('Type Doomed Renamed to confirm')
    expect(await confirm.isDisabled()).toBe(true)
    await typed.fill('Doomed Rename')
    expect(await confirm.isDisabled()).toBe(true)
    await typed.fill('doomed renamed')
    expect(await confirm.isDisabled()).toBe(true)
    await typed.fill('Doomed Renamed')
    await confirm.click()
    await page.waitForURL(`${stack.webUrl}/orgs`)
    await page.getByRole('heading', { level: 1 }).waitFor()
    // Deleting is a job: the row is marked (or, if the worker was quick, already gone) and
    // leaves the switcher once the worker has run it.
    await expect
      .poll(
        async () =>
          (await stack.sql('SELECT 1 FROM organizations WHERE id = $1', [doomedId])).length,
        // A deadline, not a wait: the worker's job may queue behind others on a loaded machine.
        { timeout: 60_000 },
      )
      .toBe(0)
    const mine = await callAs<{ data: { id: string }[] }>(stack, owner.token, 'GET', '/v1/orgs')
    expect(mine.data.map((org) => org.id)).not.toContain(doomedId)
    await page.reload()
    await page.getByRole('banner').getByRole('button').filter({ hasText: 'Organizations' }).click()
    await page.getByRole('menuitem', { name: 'Acme Works' }).waitFor()
    expect(await page.getByRole('menuitem', { name: 'Doomed Renamed' }).count()).toBe(0)
    await page.keyboard.press('Escape')
  })

  it("changes a member's role, removes another, and a member leaves on their own", async () => {
    await page.goto(`${stack.webUrl}/orgs/${orgId}/members`)
    await page.getByLabel('Role of Mina Member').selectOption('admin')
    await expect.poll(async () => (await roleOf(member.id))[0]?.role).toBe('admin')

    await page
      .getByRole('list', { name: 'Members' })
      .getByRole('listitem')
      .filter({ hasText: 'Ade Admin' })
      .getByRole('button', { name: 'Remove', exact: true })
      .click()
    const dialog = page.getByRole('alertdialog', { name: 'Remove Ade Admin?' })
    await dialog.getByRole('button', { name: 'Remove' }).click()
    await dialog.waitFor({ state: 'hidden' })
    await expect
      .poll(() => page.getByRole('list', { name: 'Members' }).getByText('Ade Admin').count())
      .toBe(0)
    const removed = await roleOf(admin.id)
    expect(removed.length === 0 || removed[0]?.removal_requested_at instanceof Date).toBe(true)
    await callAs(stack, admin.token, 'GET', `/v1/orgs/${orgId}`, undefined, 404)

    const leaving = await (await newContext(browser)).newPage()
    await signIn(leaving, stack, leaver.email)
    await leaving.goto(`${stack.webUrl}/orgs/${orgId}/members`)
    await leaving.getByRole('button', { name: 'Leave organization' }).click()
    await leaving
      .getByRole('alertdialog', { name: 'Leave this organization?' })
      .getByRole('button', { name: 'Leave organization' })
      .click()
    await leaving.waitForURL(`${stack.webUrl}/orgs`)
    expect(await leaving.getByRole('link', { name: 'Acme Works' }).count()).toBe(0)
    const left = await roleOf(leaver.id)
    expect(left.length === 0 || left[0]?.removal_requested_at instanceof Date).toBe(true)
    await leaving.context().close()
  })

  it('resends an invitation, then revokes it and its link stops working', async () => {
    const invitee = await createUser(stack, { name: 'Ivy Invitee' })
    await callAs(stack, owner.token, 'POST', `/v1/orgs/${orgId}/invitations`, {
      email: invitee.email,
      role: 'member',
    })
    await waitForEmail(stack.smtp, { to: invitee.email, subject: 'invited' })
    await page.goto(`${stack.webUrl}/orgs/${orgId}/members`)
    await page.getByRole('button', { name: `Resend invitation to ${invitee.email}` }).click()
    await page.getByRole('status').getByText('Sent again.', { exact: true }).waitFor()
    // A resend mints a new token: the link to check after revoking is this one.
    const again = await waitForEmail(stack.smtp, { to: invitee.email, subject: 'invited' })
    const link = linkIn(again, stack.webUrl)

    await page.getByRole('button', { name: `Revoke invitation to ${invitee.email}` }).click()
    await expect
      .poll(() =>
        page.getByRole('button', { name: `Revoke invitation to ${invitee.email}` }).count(),
      )
      .toBe(0)
    const [invitation] = await stack.sql('SELECT revoked_at FROM invitations WHERE email = $1', [
      invitee.email,
    ])
    expect(invitation?.revoked_at).toBeInstanceOf(Date)

    const invited = await (await newContext(browser)).newPage()
    await signIn(invited, stack, invitee.email)
    await invited.goto(link)
    await invited.getByRole('button', { name: 'Accept invitation' }).click()
    await invited
      .getByRole('main')
      .getByRole('alert')
      .getByText('This link is invalid, was already used or has expired.')
      .waitFor()
    await invited.context().close()
  })

  it('filters the audit log by area and by who, and pages through it', async () => {
    // More entries in one area than a page holds (20); the area has none so far.
    for (let key = 1; key <= 21; key += 1)
      await callAs(stack, owner.token, 'POST', `/v1/orgs/${orgId}/api-keys`, {
        name: `Key ${key}`,
        scopes: ['projects:read'],
      })
    const whats = () =>
      page.getByRole('table').locator('tbody tr td:nth-child(3)').allTextContents()
    const whos = () => page.getByRole('table').locator('tbody tr td:nth-child(2)').allTextContents()

    await page.goto(`${stack.webUrl}/orgs/${orgId}/audit-log`)
    await page.getByLabel('Area').selectOption({ label: 'Members' })
    await page.getByLabel('Who').selectOption({ label: 'Olivia Owner' })
    await page.getByRole('button', { name: 'Apply' }).click()
    await page.waitForURL(/actorUserId=/)
    await page.getByRole('table').waitFor()
    const members = await whats()
    expect(members.length).toBeGreaterThan(0)
    expect(members.every((what) => what.startsWith('member.'))).toBe(true)
    expect(new Set(await whos())).toEqual(new Set(['Olivia Owner']))
    // The role change and the removal above are both there.
    expect(members.some((what) => what.startsWith('member.role'))).toBe(true)
    expect(members.some((what) => what.startsWith('member.removed'))).toBe(true)

    await page.getByLabel('Area').selectOption({ label: 'API keys' })
    await page.getByLabel('Who').selectOption({ label: 'Anyone' })
    await page.getByRole('button', { name: 'Apply' }).click()
    await page.waitForURL(/action=api_key\./)
    await expect.poll(async () => (await whats()).length).toBe(20)
    const first = await whats()
    expect(first.every((what) => what.startsWith('api_key.'))).toBe(true)
    await page.getByRole('link', { name: 'Next page' }).click()
    await page.waitForURL(/cursor=/)
    await expect.poll(async () => (await whats()).length).toBe(1)
    await page.getByRole('link', { name: 'First page' }).click()
    await page.waitForURL((url) => !url.searchParams.has('cursor'))
    await expect.poll(async () => (await whats()).length).toBe(20)
  })
})
