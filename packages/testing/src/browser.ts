import { existsSync } from 'node:fs'
import { type Browser, chromium } from 'playwright-core'

/** playwright-core downloads no browser: tests drive the system's Chromium (.ci/provision). */
export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium'

/**
 * Headless Chromium for browser tests. No sandbox: CI runs as root, where Chromium refuses
 * its own; no GPU and no background traffic (updates, safe browsing), which a 2-core test
 * machine has no room for and tests have no business sending.
 */
export async function launchBrowser(): Promise<Browser> {
  if (!existsSync(CHROMIUM_PATH))
    throw new Error(`No Chromium at ${CHROMIUM_PATH}: run .ci/provision, or set CHROMIUM_PATH.`)
  return chromium.launch({
    executablePath: CHROMIUM_PATH,
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
  })
}
