import { waitUntil } from '@repo/testing'
import type { Browser, BrowserContext, Page } from 'playwright-core'
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
  callAs,
  createOrganization,
  createUser,
  joinByInvitation,
  signIn,
  startWebhookReceiver,
} from './helpers.ts'

// Tenant isolation as a person meets it in the browser: another organization's pages are
// the 404 page, which says nothing of what is there; ids that are not ids are 404 too, never
// a server error; and a plain member of an organization reads it without what only its
// admins may see.
let stack: Stack
let browser: Browser
let receiver: Awaited<ReturnType<typeof startWebhookReceiver>>

// What user A's organization holds: none of it may reach user B's browser.
const SECRETS = {
  org: 'Zephyr Holdings',
  project: 'Project Nightjar',
  task: 'Recalibrate the flux capacitor',
  key: 'nightjar-deploy-key',
  invitee: 'pending-invitee@example.com',
}
let memberEmail = ''
let endpointUrl = ''
/** Every page of A's organization, as paths. */
let pagesOfA: Record<string, string> = {}
let owner: { email: string; token: string }
let member: { email: string; token: string }
let outsider: { email: string; token: string }

// A whole stack, then the data the tests need, with emails and a delivery waited for.
beforeAll(async () => {
  receiver = await startWebhookReceiver()
  ;[stack, browser] = await startedTogether(startStack(), launchBrowser())
  owner = await createUser(stack, { name: 'Ada Owner' })
  member = await createUser(stack, { name: 'Marlow Member' })
  outsider = await createUser(stack, { name: 'Bex Outsider' })
  memberEmail = member.email
  const org = await createOrganization(stack, owner.token, SECRETS.org)
  await createOrganization(stack, outsider.token, 'Outsider Co')
  const base = `/v1/orgs/${org.id}`
  endpointUrl = `${receiver.url}/hooks/zephyr-private`
  // The endpoint first: the project created after it is delivered to it.
  const endpoint = await callAs<{ id: string }>(
    stack,
    owner.token,
    'POST',
    `${base}/webhook-endpoints`,
    {
      url: endpointUrl,
      events: ['project.created', 'task.created'],
    },
  )
  const project = await callAs<{ id: string }>(stack, owner.token, 'POST', `${base}/projects`, {
    name: SECRETS.project,
  })
  const task = await callAs<{ id: string }>(
    stack,
    owner.token,
    'POST',
    `${base}/projects/${project.id}/tasks`,
    { title: SECRETS.task },
  )
  await callAs(stack, owner.token, 'POST', `${base}/api-keys`, {
    name: SECRETS.key,
    scopes: ['projects:read'],
  })
  await joinByInvitation(stack, owner.token, org.id, member)
  await callAs(stack, owner.token, 'POST', `${base}/invitations`, {
    email: SECRETS.invitee,
    role: 'admin',
  })
  // The worker relays the project's event from the outbox and delivers it.
  let deliveryId: string | undefined
  await waitUntil(
    async () => {
      const page = await callAs<{ data: { id: string }[] }>(
        stack,
        owner.token,
        'GET',
        `${base}/webhook-endpoints/${endpoint.id}/deliveries`,
      )
      deliveryId = page.data[0]?.id
      return deliveryId !== undefined
    },
    { what: 'a webhook delivery of project.created', timeoutMs: 15_000, intervalMs: 100 },
  )
  const orgPath = `/orgs/${org.id}`
  const projectPath = `${orgPath}/projects/${project.id}`
  const endpointPath = `${orgPath}/webhooks/${endpoint.id}`
  pagesOfA = {
    projects: `${orgPath}/projects`,
    'a project': projectPath,
    "a project's settings": `${projectPath}/settings`,
    'a task': `${projectPath}/tasks/${task.id}`,
    'new project': `${orgPath}/projects/new`,
    members: `${orgPath}/members`,
    settings: `${orgPath}/settings`,
    'API keys': `${orgPath}/api-keys`,
    webhooks: `${orgPath}/webhooks`,
    'a webhook endpoint': endpointPath,
    'a delivery': `${endpointPath}/deliveries/${deliveryId}`,
    'audit log': `${orgPath}/audit-log`,
  }
}, 180_000)
afterAll(async () => {
  await stopTogether(stack, browser)
  await receiver?.close()
})

/** A's data found in the page's HTML (its markup and the data React was sent with it). */
async function leaked(page: Page): Promise<string[]> {
  const html = await page.content()
  return [...Object.values(SECRETS), memberEmail, endpointUrl].filter((secret) =>
    html.includes(secret),
  )
}

/** What only A's admins may read (keys, endpoints, pending invitations), found in the page. */
async function adminDataIn(page: Page): Promise<string[]> {
  const html = await page.content()
  return [SECRETS.key, SECRETS.invitee, endpointUrl].filter((secret) => html.includes(secret))
}

/** A browser signed in as `user`, kept for every test of a describe. */
function signedIn(user: () => { email: string }) {
  const session = {
    context: undefined as BrowserContext | undefined,
    page: undefined as unknown as Page,
  }
  beforeAll(async () => {
    session.context = await newContext(browser)
    session.page = await session.context.newPage()
    await signIn(session.page, stack, user().email)
  })
  afterAll(async () => {
    await session.context?.close()
  })
  return session
}

describe('the owner, for comparison', { shuffle: false, timeout: 60_000 }, () => {
  const session = signedIn(() => owner)

  // Without this, a mistyped path would pass the tests below as a 404 for the wrong reason.
  it('opens every page of the organization and sees its data', async () => {
    const { page } = session
    for (const [name, path] of Object.entries(pagesOfA)) {
      const response = await page.goto(`${stack.webUrl}${path}`)
      expect(response?.status(), name).toBe(200)
      await page.getByRole('heading', { level: 1 }).waitFor()
      expect(await leaked(page), name).not.toEqual([])
    }
  })

  // Ids of the organization's own kinds, that do not exist: the page's own API call says so.
  it.for([
    { name: 'a project', path: () => `${pagesOfA.projects}/${crypto.randomUUID()}` },
    { name: 'a task', path: () => `${pagesOfA['a project']}/tasks/${crypto.randomUUID()}` },
    { name: 'an endpoint', path: () => `${pagesOfA.webhooks}/${crypto.randomUUID()}` },
    {
      name: 'a delivery',
      path: () => `${pagesOfA['a webhook endpoint']}/deliveries/${crypto.randomUUID()}`,
    },
    { name: 'a project whose id is not an id', path: () => `${pagesOfA.projects}/new-ish` },
  ])('$name that is not there: the 404 page with status 404', async ({ path }) => {
    const response = await session.page.goto(`${stack.webUrl}${path()}`)
    expect(response?.status()).toBe(404)
    await session.page.getByRole('heading', { level: 1, name: 'Page not found' }).waitFor()
  })
})

describe('another organization seen by an outsider', { shuffle: false, timeout: 60_000 }, () => {
  const session = signedIn(() => outsider)

  it.for([
    'projects',
    'a project',
    "a project's settings",
    'a task',
    'new project',
    'members',
    'settings',
    'API keys',
    'webhooks',
    'a webhook endpoint',
    'a delivery',
    'audit log',
  ])('%s: the 404 page, without any of its data', async (name) => {
    const { page } = session
    const response = await page.goto(`${stack.webUrl}${pagesOfA[name]}`)
    expect(response?.status()).toBe(404)
    await page.getByRole('heading', { level: 1, name: 'Page not found' }).waitFor()
    expect(await leaked(page)).toEqual([])
  })

  it.for([
    { name: 'not a UUID', path: '/orgs/not-a-uuid/projects' },
    { name: 'SQL in the org id', path: `/orgs/${encodeURIComponent("' OR '1'='1")}/projects` },
    {
      name: 'a statement in the org id',
      path: `/orgs/${encodeURIComponent('1; DROP TABLE organizations; --')}/members`,
    },
    { name: 'a UUID nobody has', path: `/orgs/${crypto.randomUUID()}/projects` },
    { name: 'a 10,000-character id', path: `/orgs/${'a'.repeat(10_000)}/projects` },
    {
      name: "SQL in a project id of A's organization",
      path: `/orgs/ORG/projects/${encodeURIComponent("x' UNION SELECT * FROM users --")}`,
    },
    {
      name: 'a NUL byte as a task id',
      path: `/orgs/ORG/projects/${crypto.randomUUID()}/tasks/%00`,
    },
    {
      name: 'a path in an endpoint id',
      path: `/orgs/ORG/webhooks/${encodeURIComponent('../api-keys')}`,
    },
  ])('$name: 404, not a server error', async ({ path: template }) => {
    const path = template.replace('ORG', pagesOfA.projects?.split('/')[2] ?? '')
    const response = await session.page.goto(`${stack.webUrl}${path}`)
    expect(response?.status()).toBe(404)
    await session.page.getByRole('heading', { level: 1, name: 'Page not found' }).waitFor()
  })
})

describe('a member of the organization, not an admin', { shuffle: false, timeout: 60_000 }, () => {
  const session = signedIn(() => member)

  it.for(['projects', 'a project', "a project's settings", 'a task', 'members', 'settings'])(
    '%s: opens, without admin controls',
    async (name) => {
      const { page } = session
      const response = await page.goto(`${stack.webUrl}${pagesOfA[name]}`)
      expect(response?.status()).toBe(200)
      await page.getByRole('heading', { level: 1 }).waitFor()
      const nav = page.getByRole('navigation', { name: 'Organization' })
      await nav.getByRole('link', { name: 'Members' }).waitFor()
      for (const adminOnly of ['API keys', 'Webhooks', 'Audit log'])
        expect(await nav.getByRole('link', { name: adminOnly }).count(), adminOnly).toBe(0)
      expect(
        await page
          .getByRole('button', {
            name: /invitation|Resend|Revoke|Rename|Delete organization|Delete project/i,
          })
          .count(),
      ).toBe(0)
      expect(await page.getByRole('combobox', { name: /^Role of/ }).count()).toBe(0)
      expect(await adminDataIn(page)).toEqual([])
    },
  )

  it.for(['API keys', 'webhooks', 'a webhook endpoint', 'a delivery', 'audit log'])(
    '%s: says it is for admins, and shows none of it',
    async (name) => {
      const { page } = session
      const response = await page.goto(`${stack.webUrl}${pagesOfA[name]}`)
      expect(response?.status()).toBeLessThan(500)
      await page.getByRole('heading', { level: 1 }).waitFor()
      await page.getByText(/only owners and admins/i).waitFor()
      expect(await adminDataIn(page)).toEqual([])
      expect(
        await page.getByRole('button', { name: /Create|Add|Rotate|Delete|Redeliver/ }).count(),
      ).toBe(0)
    },
  )
})
