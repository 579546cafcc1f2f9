import { mkdirSync } from 'node:fs'
import { basename, join } from 'node:path'
import type {
  Browser,
  BrowserContext,
  BrowserContextOptions,
  Page,
  PageScreenshotOptions,
} from 'playwright-core'
import { expect } from 'vitest'

export { launchBrowser } from '@repo/testing/browser'

/**
 * A fresh browser context (its own cookies and storage: one user) with what makes pages
 * render the same on every machine: a desktop viewport, light scheme, no motion, one
 * locale and time zone. `options` overrides any of them (`colorScheme: 'dark'`, a
 * `viewport`, a `baseURL`).
 */
export function newContext(
  browser: Browser,
  options: BrowserContextOptions = {},
): Promise<BrowserContext> {
  return browser.newContext({
    viewport: { width: 1280, height: 800 },
    colorScheme: 'light',
    reducedMotion: 'reduce',
    locale: 'en-US',
    timezoneId: 'UTC',
    ...options,
  })
}

/** The three looks a page is reviewed in: light, dark, and a 390 px wide phone. */
export type Variant = 'light' | 'dark' | 'narrow'

const NARROW = { width: 390, height: 844 }

/** Where screenshots go: CI keeps the folder; git ignores it. */
const ARTIFACTS = join(import.meta.dirname, '..', 'artifacts')

/**
 * Full-page PNGs of `page` as it is now, one per variant, in
 * e2e/artifacts/<test file>/<name>-<variant>.png; returns their paths. The page is
 * switched in place (no reload, so what the test did to it stays) and put back after.
 */
export async function screenshot(
  page: Page,
  name: string,
  variants: Variant[] = ['light', 'dark', 'narrow'],
): Promise<string[]> {
  const testFile = basename(expect.getState().testPath ?? 'unknown', '.test.ts')
  const dir = join(ARTIFACTS, testFile)
  mkdirSync(dir, { recursive: true })
  const viewport = page.viewportSize()
  const dark = await page.evaluate(() => matchMedia('(prefers-color-scheme: dark)').matches)
  const paths: string[] = []
  try {
    for (const variant of variants) {
      await page.emulateMedia({ colorScheme: variant === 'dark' ? 'dark' : 'light' })
      const size = variant === 'narrow' ? NARROW : viewport
      if (size) await page.setViewportSize(size)
      const path = join(dir, `${name.replace(/[^\w.-]+/g, '-')}-${variant}.png`)
      await capture(page, path)
      paths.push(path)
    }
  } finally {
    await page.emulateMedia({ colorScheme: dark ? 'dark' : 'light' })
    if (viewport) await page.setViewportSize(viewport)
  }
  return paths
}

/** How long one capture may take before it is tried again; a capture takes well under 2 s. */
const CAPTURE_DEADLINE_MS = 15_000

/**
 * One full-page PNG, tried a second time if the first capture hangs. Under a full test run's
 * load, Chromium has once not delivered the frame for a capture within Playwright's 30 s
 * (fonts loaded, then nothing), while the same page captured in under 2 s alone. The screenshot
 * is an artifact for review, not a check, so a hung capture is retried once, said on stderr,
 * and a second hang fails the test.
 */
async function capture(page: Page, path: string): Promise<void> {
  const options: PageScreenshotOptions = {
    path,
    fullPage: true,
    animations: 'disabled',
    timeout: CAPTURE_DEADLINE_MS,
  }
  try {
    await page.screenshot(options)
  } catch (error) {
    if (!(error instanceof Error && error.name === 'TimeoutError')) throw error
    console.warn(`screenshot ${basename(path)} hung for ${CAPTURE_DEADLINE_MS} ms; trying again`)
    await page.screenshot(options)
  }
}
