// pnpm bench:web — how fast a signed-in user's browser gets the projects page of an
// organization with 5,000 projects (20 a page): time to first byte and largest
// contentful paint, beside a baseline measured in the same run; and before that, every
// page's first-load JavaScript (scripts/first-load-js.ts). Needs `pnpm build`.
//
// The stack is the browser tests' (e2e/harness): a fresh database, the API, the web app's
// production server; no worker, which nothing here needs. Chromium signs in through the
// sign-in page; each sample then opens a new page in that signed-in context with the
// browser cache off, so every sample downloads what a first visit does.
//
// The baseline is the same page frozen: once signed in, the projects page as the browser
// shows it, its scripts removed, is written into the standalone server's public/ folder
// and served as a static file by the same server (through the same proxy). Same markup,
// same stylesheet, no rendering, no API call, no JavaScript: what is left of the page's
// time is what serving any page costs. Nothing of it is committed or shipped: the file
// lives in the build output while the bench runs (Next lists public/ when it starts, so
// a placeholder is written first and filled in later). Samples alternate between the two
// pages so both see the same machine load. BENCH_SAMPLES (default 20) per page, after 3
// warm-up visits of each.

import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs'
import { cpus, loadavg, totalmem } from 'node:os'
import { dirname, join } from 'node:path'
import { loadEnvOrExit, positiveInt } from '@repo/config'
import { startTestServices } from '@repo/testing/global-setup'
import type { Browser, BrowserContext } from 'playwright-core'
import { z } from 'zod'
import {
  launchBrowser,
  newContext,
  STANDALONE_SERVER,
  type Stack,
  startStack,
} from '../e2e/harness/index.ts'
import { createOrganization, createUser, signIn } from '../e2e/helpers.ts'
import { firstLoadJs, firstLoadTable, kB, markdownTable } from '../scripts/first-load-js.ts'

const { BENCH_SAMPLES: SAMPLES } = loadEnvOrExit(z.object({ BENCH_SAMPLES: positiveInt(20) }))
const WARM_UP = 3
const PROJECTS = 5_000
const ROWS_PER_PAGE = 20
/** A paint that has not happened this long after `load` is a broken page, not a sample. */
const LCP_DEADLINE_MS = 10_000

interface Sample {
  ttfb: number
  lcp: number
  /** The document, as sent (compressed when it was). */
  htmlBytes: number
  /** Scripts the page loaded, as sent. */
  scriptBytes: number
}

/**
 * Runs in the page: Navigation Timing, and the largest-contentful-paint candidate that
 * first lies in <main>: the page's own content (its heading), which streams in after the
 * header and may be revealed after `load`. Also what the page downloaded.
 */
async function measureInPage(deadlineMs: number): Promise<Sample> {
  const [navigation] = performance.getEntriesByType('navigation') as PerformanceNavigationTiming[]
  if (!navigation) throw new Error('no navigation timing entry')
  const lcp = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('no paint of <main> in time')), deadlineMs)
    new PerformanceObserver((list) => {
      const entries = list.getEntries() as Array<PerformanceEntry & { element?: Element | null }>
      const main = entries.find((entry) => entry.element?.closest('main'))
      if (!main) return
      clearTimeout(timer)
      resolve(main.startTime)
    }).observe({ type: 'largest-contentful-paint', buffered: true })
  })
  const scripts = (performance.getEntriesByType('resource') as PerformanceResourceTiming[]).filter(
    (entry) => new URL(entry.name).pathname.endsWith('.js'),
  )
  return {
    ttfb: navigation.responseStart - navigation.requestStart,
    lcp,
    htmlBytes: navigation.encodedBodySize,
    scriptBytes: scripts.reduce((sum, entry) => sum + entry.encodedBodySize, 0),
  }
}

/** One cold-cache visit of `url` in a new page of the signed-in context. */
async function visit(context: BrowserContext, url: string): Promise<Sample> {
  const page = await context.newPage()
  try {
    const cdp = await context.newCDPSession(page)
    await cdp.send('Network.enable')
    await cdp.send('Network.setCacheDisabled', { cacheDisabled: true })
    const response = await page.goto(url, { waitUntil: 'load' })
    if (response?.status() !== 200 || page.url() !== url)
      throw new Error(`${url} answered ${response?.status()} at ${page.url()}`)
    return await page.evaluate(measureInPage, LCP_DEADLINE_MS)
  } finally {
    await page.close()
  }
}

/** The page as the browser shows it, without what would run: a static copy of it. */
function frozen(html: string): string {
  return html
    .replace(/<script\b[^>]*>[\s\S]*?<\/script>/gi, '')
    .replace(/<link\b[^>]*\bas="script"[^>]*>/gi, '')
    .replace(/<link\b[^>]*\brel="modulepreload"[^>]*>/gi, '')
}

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? Number.NaN
}

async function seed(stack: Stack) {
  const owner = await createUser(stack, { name: 'Bench Owner' })
  const org = await createOrganization(stack, owner.token, 'Bench')
  await stack.sql(
    `INSERT INTO projects (id, organization_id, name, description, status, version, created_at, updated_at)
     SELECT gen_random_uuid(), $1, 'Project ' || n, 'What project ' || n || ' is about',
            (CASE WHEN n % 10 = 0 THEN 'archived' ELSE 'active' END)::project_status, 1,
            now() - n * interval '1 minute', now()
     FROM generate_series(1, ${PROJECTS}) AS n`,
    [org.id],
  )
  await stack.sql('ANALYZE projects')
  return { owner, org }
}

const routes = firstLoadJs()
console.log(`First-load JavaScript per page (gzip: as sent)\n\n${firstLoadTable(routes)}\n`)

const publicDir = join(dirname(STANDALONE_SERVER), 'public')
const createdPublicDir = !existsSync(publicDir)
const baselineFile = join(publicDir, 'bench-baseline.html')
if (existsSync(baselineFile))
  throw new Error(`${baselineFile} exists: another bench is running, or a killed one left it`)

let services: Awaited<ReturnType<typeof startTestServices>> | undefined
let stack: Stack | undefined
let browser: Browser | undefined
try {
  const started = performance.now()
  mkdirSync(publicDir, { recursive: true })
  writeFileSync(baselineFile, '<!doctype html><title>filled in once signed in</title>')
  services = await startTestServices()
  ;[stack, browser] = await Promise.all([
    startStack({ services: services.services, worker: false }),
    launchBrowser(),
  ])
  const { owner, org } = await seed(stack)
  const context = await newContext(browser)
  const projectsUrl = `${stack.webUrl}/orgs/${org.id}/projects`
  const baselineUrl = `${stack.webUrl}/bench-baseline.html`

  const page = await context.newPage()
  await signIn(page, stack, owner.email)
  await page.goto(projectsUrl)
  // Revealed, not just received: React swaps streamed content in after its fallback.
  const rows = page.locator('main tbody tr')
  await rows.last().waitFor()
  const shown = await rows.count()
  if (shown !== ROWS_PER_PAGE) throw new Error(`the projects page shows ${shown} rows`)
  writeFileSync(baselineFile, frozen(await page.content()))
  await page.close()
  const baselinePage = await context.newPage()
  await baselinePage.goto(baselineUrl)
  if ((await baselinePage.locator('main tbody tr:visible').count()) !== ROWS_PER_PAGE)
    throw new Error('the baseline page does not show the projects table')
  await baselinePage.close()
  const setupS = (performance.now() - started) / 1000

  const samples = { projects: [] as Sample[], baseline: [] as Sample[] }
  process.stdout.write(`${WARM_UP} warm-up and ${SAMPLES} measured visits of each page`)
  for (let i = 0; i < WARM_UP + SAMPLES; i += 1) {
    const projects = await visit(context, projectsUrl)
    const baseline = await visit(context, baselineUrl)
    if (i >= WARM_UP) {
      samples.projects.push(projects)
      samples.baseline.push(baseline)
    }
    process.stdout.write('.')
  }

  const ms = (value: number) => value.toFixed(1)
  const stat = (list: Sample[], key: keyof Sample, p: number) =>
    percentile(
      list.map((s) => s[key]),
      p,
    )
  const table = (
    [
      ['projects page, /orgs/:orgId/projects', samples.projects],
      ['baseline: the same page frozen, public/ file', samples.baseline],
    ] as const
  ).map(([name, list]) => [
    name,
    ms(stat(list, 'ttfb', 50)),
    ms(stat(list, 'ttfb', 95)),
    ms(stat(list, 'lcp', 50)),
    ms(stat(list, 'lcp', 95)),
    kB(stat(list, 'htmlBytes', 50)),
    kB(stat(list, 'scriptBytes', 50)),
  ])
  const ratio = (key: keyof Sample, p: number) =>
    (stat(samples.projects, key, p) / stat(samples.baseline, key, p)).toFixed(1)
  const computed = routes.find((r) => r.route === '/orgs/[orgId]/projects')
  console.log(
    `\n\nMachine: ${cpus().length} x ${cpus()[0]?.model}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, ` +
      `Node ${process.version}, Chromium ${browser.version()}; ${PROJECTS} projects; ` +
      `${SAMPLES} samples per page after ${WARM_UP} warm-up; set-up ${setupS.toFixed(1)} s; ` +
      `load average ${loadavg()[0]?.toFixed(1)} (other work on the machine skews every number)\n`,
  )
  console.log(
    markdownTable(
      ['page', 'TTFB p50 ms', 'TTFB p95 ms', 'LCP p50 ms', 'LCP p95 ms', 'HTML kB', 'JS kB'],
      table,
      [false, true, true, true, true, true, true],
    ),
  )
  console.log(
    `\nprojects / baseline: TTFB ${ratio('ttfb', 50)}x (p95 ${ratio('ttfb', 95)}x), ` +
      `LCP ${ratio('lcp', 50)}x (p95 ${ratio('lcp', 95)}x). ` +
      `JS the browser downloaded for the projects page: ${kB(stat(samples.projects, 'scriptBytes', 50))} kB; ` +
      `first-load-js.ts counts ${computed ? kB(computed.gzipBytes) : '?'} kB gzip.`,
  )
} finally {
  await browser?.close()
  await stack?.stop()
  await services?.stop()
  rmSync(createdPublicDir ? publicDir : baselineFile, { recursive: true, force: true })
}
