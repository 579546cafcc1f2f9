import { waitUntil } from '@repo/testing'
import type { Browser, BrowserContext, Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  COLOR_RULES,
  expectNoA11yViolations,
  launchBrowser,
  newContext,
  type Stack,
  screenshot,
  startedTogether,
  startStack,
  stopTogether,
} from './harness/index.ts'
import {
  callAs,
  createOrganization,
  createUser,
  fileDeadLetter,
  joinByInvitation,
  makeOperator,
  signIn,
  startWebhookReceiver,
} from './helpers.ts'

// Every main page as people meet it: one h1, no serious or critical accessibility
// violation in light or dark, no sideways scrolling on a 390 px phone, every control named.
// Screenshots of each (light, dark, narrow) are kept for a person to review.
let stack: Stack
let browser: Browser
let receiver: Awaited<ReturnType<typeof startWebhookReceiver>>
let owner: Awaited<ReturnType<typeof createUser>>
/** The signed-in pages, by the name their screenshots get; paths once the data exists. */
const SIGNED_IN = [
  'organizations',
  'new-organization',
  'projects',
  'new-project',
  'project',
  'project-settings',
  'task',
  'members',
  'organization-settings',
  'api-keys',
  'webhooks',
  'webhook-endpoint',
  'webhook-delivery',
  'audit-log',
  'account',
  'account-security',
  'dead-letters',
  'dead-letter',
] as const
let signedInPages: Record<(typeof SIGNED_IN)[number], string>

/** One organization as a team would have it after a few weeks: every list has rows. */
async function seedOrganization() {
  owner = await createUser(stack, { name: 'Olivia Owner' })
  const [admin, member] = await Promise.all([
    createUser(stack, { name: 'Ade Admin' }),
    createUser(stack, { name: 'Mina Member' }),
  ])
  await makeOperator(stack, owner.id)
  const org = await createOrganization(stack, owner.token, 'Northwind Logistics')
  const base = `/v1/orgs/${org.id}`
  const as = <T = { id: string }>(url: string, payload: Record<string, unknown>) =>
    callAs<T>(stack, owner.token, 'POST', `${base}${url}`, payload)
  await joinByInvitation(stack, owner.token, org.id, admin, 'admin')
  await joinByInvitation(stack, owner.token, org.id, member, 'member')
  await as('/invitations', { email: 'sam.newhire@example.com', role: 'member' })
  const endpoint = await as('/webhook-endpoints', {
    url: `${receiver.url}/hooks/northwind`,
    description: 'Order sync',
    events: ['project.created', 'task.created'],
  })
  await as('/api-keys', { name: 'CI deploy', scopes: ['projects:read', 'projects:write'] })
  const project = await as('/projects', {
    name: 'Warehouse relaunch',
    description: 'Move the Leeds warehouse onto the new scanners before the peak season.',
  })
  await as('/projects', { name: 'Quarterly planning' })
  await as('/projects', { name: 'Legacy migration', status: 'archived' })
  const tasks = [
    {
      title: 'Order 40 handheld scanners',
      assigneeId: admin.id,
      priority: 'high',
      dueDate: '2031-03-14',
    },
    {
      title: 'Train the night shift',
      assigneeId: member.id,
      priority: 'medium',
      dueDate: '2031-04-01',
      status: 'in_progress',
    },
    { title: 'Label every aisle', assigneeId: owner.id, priority: 'urgent', status: 'done' },
    { title: 'Decommission the old printers', priority: 'low' },
  ]
  let firstTask = ''
  for (const task of tasks) {
    const created = await as(`/projects/${project.id}/tasks`, task)
    firstTask ||= created.id
  }
  // A job that failed every attempt, as the worker files it, for the operators' page.
  await fileDeadLetter(stack, 'emails-42', {
    queue: 'emails',
    jobId: '42',
    name: 'emails.send',
    data: { template: 'password-reset', to: 'someone@example.com' },
    error: 'SMTP 421: service not available',
    stack: 'Error: SMTP 421: service not available\n    at send (send-email.ts:57:11)',
    attempts: [{ attempt: 1, stack: 'Error: SMTP 421: service not available' }],
    attemptsMade: 5,
    options: { attempts: 5, backoff: { type: 'exponential', delay: 1000 } },
    failedAt: '2031-01-02T03:04:05.000Z',
    firstEnqueuedAt: '2031-01-02T03:00:00.000Z',
  })
  const deliveries = `${base}/webhook-endpoints/${endpoint.id}/deliveries`
  let delivery: string | undefined
  // The worker relays the project's event and delivers it to the receiver.
  await waitUntil(
    async () => {
      const page = await callAs<{ data: { id: string }[] }>(stack, owner.token, 'GET', deliveries)
      delivery = page.data[0]?.id
      return delivery !== undefined
    },
    { what: 'a webhook delivery of project.created', timeoutMs: 15_000, intervalMs: 100 },
  )
  const orgPath = `/orgs/${org.id}`
  const projectPath = `${orgPath}/projects/${project.id}`
  signedInPages = {
    organizations: '/orgs',
    'new-organization': '/orgs/new',
    projects: `${orgPath}/projects`,
    'new-project': `${orgPath}/projects/new`,
    project: projectPath,
    'project-settings': `${projectPath}/settings`,
    task: `${projectPath}/tasks/${firstTask}`,
    members: `${orgPath}/members`,
    'organization-settings': `${orgPath}/settings`,
    'api-keys': `${orgPath}/api-keys`,
    webhooks: `${orgPath}/webhooks`,
    'webhook-endpoint': `${orgPath}/webhooks/${endpoint.id}`,
    'webhook-delivery': `${orgPath}/webhooks/${endpoint.id}/deliveries/${delivery}`,
    'audit-log': `${orgPath}/audit-log`,
    account: '/account',
    'account-security': '/account/security',
    'dead-letters': '/admin/dead-letters',
    'dead-letter': '/admin/dead-letters/emails-42',
  }
}

const signedOutPages = {
  landing: '/',
  'sign-in': '/sign-in',
  'sign-up': '/sign-up',
  'sign-in-mfa': '/sign-in/mfa',
  'forgot-password': '/forgot-password',
  'reset-password': '/reset-password?token=x',
  'verify-email': '/verify-email?token=x',
  'accept-invitation': '/invitations/accept?token=x',
  'not-found': '/no-such-page',
} as const

// A whole stack, then the data the tests need, with emails and a delivery waited for.
beforeAll(async () => {
  receiver = await startWebhookReceiver()
  ;[stack, browser] = await startedTogether(startStack(), launchBrowser())
  await seedOrganization()
}, 180_000)
afterAll(async () => {
  await stopTogether(stack, browser)
  await receiver?.close()
})

const PHONE = { width: 390, height: 844 }
const ROLES = ['button', 'link', 'textbox', 'searchbox', 'combobox', 'checkbox', 'radio'] as const

/**
 * In the page: its scroll width, and the innermost elements that reach past the right
 * edge (what to fix when the page scrolls sideways).
 */
function widthAndOverflow() {
  const edge = document.documentElement.clientWidth
  const past = (element: Element) => element.getBoundingClientRect().right > edge + 0.5
  // Inside a box that scrolls or clips, reaching past the edge widens nothing.
  const clipped = (element: Element) => {
    for (let box = element.parentElement; box && box !== document.body; box = box.parentElement)
      if (getComputedStyle(box).overflowX !== 'visible') return true
    return false
  }
  const outside = [...document.body.querySelectorAll('*')]
    .filter((element) => past(element) && !clipped(element) && ![...element.children].some(past))
    .slice(0, 5)
    .map((element) => {
      const classes = [...element.classList].slice(0, 4).join('.')
      const text = (element.textContent ?? '').trim().slice(0, 30)
      return `<${element.tagName.toLowerCase()}${classes ? `.${classes}` : ''}> "${text}"`
    })
  return { width: document.documentElement.scrollWidth, outside }
}

/** The checks every page passes, then its screenshots. */
async function reviewPage(page: Page, name: string, path: string) {
  // Light first, whatever an earlier page's failed check left behind.
  await page.emulateMedia({ colorScheme: 'light' })
  const response = await page.goto(`${stack.webUrl}${path}`)
  expect(response?.status()).toBe(name === 'not-found' ? 404 : 200)
  await page.getByRole('heading', { level: 1 }).first().waitFor()
  expect(await page.getByRole('heading', { level: 1 }).count(), 'h1 elements').toBe(1)
  for (const role of ROLES)
    expect(await page.getByRole(role, { name: /^\s*$/ }).count(), `${role}s without a name`).toBe(0)
  await expectNoA11yViolations(page)
  // Dark differs from light in its colors only: the color rules are what is left to check.
  await page.emulateMedia({ colorScheme: 'dark' })
  await expectNoA11yViolations(page, { rules: COLOR_RULES })
  await page.emulateMedia({ colorScheme: 'light' })
  const desktop = page.viewportSize()
  await page.setViewportSize(PHONE)
  const { width, outside } = await page.evaluate(widthAndOverflow)
  if (desktop) await page.setViewportSize(desktop)
  expect(width, `page width at 390 px; sticking out: ${outside.join(' | ')}`).toBeLessThanOrEqual(
    PHONE.width,
  )
  await screenshot(page, name)
}

function reviewedIn<Name extends string>(
  names: readonly Name[],
  paths: () => Record<Name, string>,
  signInAs?: () => { email: string },
) {
  let context: BrowserContext
  let page: Page
  beforeAll(async () => {
    context = await newContext(browser)
    page = await context.newPage()
    if (signInAs) await signIn(page, stack, signInAs().email)
  })
  afterAll(async () => {
    await context?.close()
  })
  it.for(names)('%s', async (name) => {
    await reviewPage(page, name, paths()[name])
  })
}

describe('signed-out pages', { shuffle: false, timeout: 60_000 }, () => {
  reviewedIn(Object.keys(signedOutPages) as (keyof typeof signedOutPages)[], () => signedOutPages)
})

describe("the owner's pages", { shuffle: false, timeout: 60_000 }, () => {
  reviewedIn(
    SIGNED_IN,
    () => signedInPages,
    () => owner,
  )
})
