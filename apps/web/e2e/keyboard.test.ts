import type { Browser, Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  launchBrowser,
  newContext,
  type Stack,
  startedTogether,
  startStack,
  stopTogether,
} from './harness/index.ts'
import { createOrganization, createUser, PASSWORD } from './helpers.ts'

// Someone who uses no pointer: from sign-in to a new project with its first task, by Tab,
// Shift+Tab, Enter, Space and typing alone. Wherever focus is, it can be seen, and after a
// page changes it is somewhere to go on from, not lost on the document's body.
let stack: Stack
let browser: Browser

beforeAll(async () => {
  ;[stack, browser] = await startedTogether(startStack({ worker: false }), launchBrowser())
})
afterAll(async () => {
  await stopTogether(stack, browser)
})

interface Focus {
  /** tag, then the accessible-ish name: label, aria-label or text. */
  what: string
  name: string
  visible: boolean
  onBody: boolean
}

/** What has focus, what it is called, and whether a sighted user can see that it has. */
function readFocus(page: Page): Promise<Focus> {
  return page.evaluate(() => {
    const element = document.activeElement
    if (!element || element === document.body)
      return { what: 'body', name: '', visible: false, onBody: true }
    const labelled =
      element.getAttribute('aria-label') ??
      ((element as HTMLInputElement).labels?.[0]?.textContent || element.textContent || '')
    const style = getComputedStyle(element)
    // The browser's own verdict (keyboard focus), and an outline drawn for it: a resting
    // box-shadow (a menu's) is not a focus ring.
    const outlined =
      element.matches(':focus-visible') &&
      style.outlineStyle !== 'none' &&
      Number.parseFloat(style.outlineWidth) > 0
    return {
      what: element.tagName.toLowerCase(),
      name: labelled.trim(),
      visible: outlined,
      onBody: false,
    }
  })
}

/**
 * Presses `key` (Tab or Shift+Tab) until the focused element's name matches, checking at
 * every stop on the way that the focus can be seen.
 */
async function moveTo(page: Page, name: RegExp, key: 'Tab' | 'Shift+Tab' = 'Tab') {
  const path: string[] = []
  for (let presses = 0; presses < 40; presses += 1) {
    await page.keyboard.press(key)
    const focus = await readFocus(page)
    path.push(`${focus.what} "${focus.name}"`)
    expect(focus.visible, `focus cannot be seen on ${path.at(-1)}`).toBe(true)
    if (name.test(focus.name)) return
  }
  throw new Error(`${key} never reached ${name}; it went: ${path.join(' → ')}`)
}

/** After a page changes: focus is on something of the new page, and it shows. */
async function expectFocusLanded(page: Page, name: RegExp) {
  await expect.poll(async () => (await readFocus(page)).name).toMatch(name)
  const focus = await readFocus(page)
  expect(focus.onBody).toBe(false)
  expect(focus.visible, `focus cannot be seen on ${focus.what} "${focus.name}"`).toBe(true)
}

describe('a keyboard-only journey', { shuffle: false, timeout: 60_000 }, () => {
  it('signs in, creates a project and adds a task without a pointer', async () => {
    const user = await createUser(stack, { name: 'Kim Keys' })
    await createOrganization(stack, user.token, 'Keyboard Co')
    const context = await newContext(browser)
    const page = await context.newPage()
    const { keyboard } = page

    await page.goto(`${stack.webUrl}/sign-in`)
    await moveTo(page, /^Email$/)
    await keyboard.type(user.email)
    await moveTo(page, /^Password$/)
    await keyboard.type('not yet')
    // Back to the email to check it, then on to fix the password.
    await moveTo(page, /^Email$/, 'Shift+Tab')
    await moveTo(page, /^Password$/)
    await keyboard.press('ControlOrMeta+a')
    await keyboard.type(PASSWORD)
    await keyboard.press('Enter')
    await page.waitForURL(`${stack.webUrl}/orgs`)
    await page.getByRole('heading', { level: 1, name: 'Organizations' }).waitFor()
    await expectFocusLanded(page, /Organizations/)

    await moveTo(page, /^Keyboard Co/)
    await keyboard.press('Enter')
    await page.getByRole('heading', { level: 1, name: 'Projects' }).waitFor()
    await expectFocusLanded(page, /^Projects$/)
    await moveTo(page, /^Create project$/)
    await keyboard.press('Enter')
    await page.getByRole('heading', { level: 1, name: 'Create project' }).waitFor()
    await expectFocusLanded(page, /^Create project$/)
    await moveTo(page, /^Name$/)
    await keyboard.type('Launch plan')
    await moveTo(page, /^Description$/)
    await keyboard.type('Everything for the spring launch.')
    await moveTo(page, /^Create project$/)
    await keyboard.press('Space')
    await page.getByRole('heading', { level: 1, name: 'Launch plan' }).waitFor()
    await expectFocusLanded(page, /^Launch plan$/)

    await moveTo(page, /^Task title$/)
    await keyboard.type('Write the announcement')
    await moveTo(page, /^Priority$/)
    // A native select changes with the arrow keys: medium becomes high.
    await keyboard.press('ArrowDown')
    await moveTo(page, /^Add task$/)
    await keyboard.press('Enter')
    const tasks = page.getByRole('list', { name: 'Tasks' })
    await tasks.getByRole('link', { name: 'Write the announcement' }).waitFor()
    await tasks.getByText('High', { exact: true }).waitFor()
    // Ready for the next task: focus stays on the button it was on, visible.
    const focus = await readFocus(page)
    expect(focus.onBody, 'focus after adding a task').toBe(false)
    expect(focus.name).toBe('Add task')
    expect(focus.visible).toBe(true)
    await context.close()
  })
})
