import { type SinkRequest, sentryItems, type TelemetrySink } from '@repo/testing'
import type { Browser, BrowserContext, Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { TELEMETRY_CONFIG_ELEMENT_ID } from '../lib/telemetry-config.ts'
import { launchBrowser, newContext, telemetryServers, type WebServer } from './harness/index.ts'

// Browser telemetry as the production build runs it: the web server tells browsers at run
// time where to report (ADR 034), so the one build reports to loopback sinks here and to
// each environment's Sentry and PostHog when deployed. The real browser SDKs deliver to
// the sinks; nothing is mocked.
const servers = telemetryServers()
const { web, sink } = servers
let browser: Browser

beforeAll(async () => {
  browser = await launchBrowser()
  servers.cleanup.defer(() => browser.close())
})
afterAll(() => servers.stopAll())

/**
 * A tab in a browser as a person's looks to PostHog. posthog-js drops every event of a
 * browser that says it is automated (navigator.webdriver, "HeadlessChrome" in its user
 * agent or brands), as it should in production.
 */
async function personsTab(): Promise<Page> {
  const context: BrowserContext = await newContext(browser, {
    userAgent: `Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/${browser.version()} Safari/537.36`,
  })
  servers.cleanup.defer(() => context.close())
  await context.addInitScript(() => {
    Object.defineProperty(Navigator.prototype, 'webdriver', { get: () => false })
    Object.defineProperty(Navigator.prototype, 'userAgentData', { get: () => undefined })
  })
  return context.newPage()
}

/** What a browser sent: a page's requests to another origin carry its Origin, a server's none. */
const fromBrowserOf = (server: WebServer) => (request: SinkRequest) =>
  request.headers.origin === server.url

/** Text in Sentry's and PostHog's browser SDKs and in no other script of the app. */
const SDK_MARKERS = { sentry: 'sentry.javascript.browser', posthog: 'posthog-js' } as const

/** The scripts `page` downloads from now on, by URL. */
function scriptsOf(page: Page): Set<string> {
  const urls = new Set<string>()
  page.on('request', (request) => {
    if (request.resourceType() === 'script') urls.add(request.url())
  })
  return urls
}

/** Which SDKs the scripts at `urls` hold (fetched again from the server, same build). */
async function sdksIn(urls: Iterable<string>): Promise<string[]> {
  const found = new Set<string>()
  for (const url of urls) {
    const text = await (await fetch(url)).text()
    for (const [sdk, marker] of Object.entries(SDK_MARKERS))
      if (text.includes(marker)) found.add(sdk)
  }
  return [...found].sort()
}

/** The events of posthog-js's batches (`{ batch: [...] }`, or one event) a sink received. */
function posthogEvents(requests: SinkRequest[]): Array<Record<string, unknown>> {
  return requests.flatMap((request) => {
    if (!request.path.startsWith('/e/')) return []
    try {
      const body = JSON.parse(request.body) as Record<string, unknown>
      return Array.isArray(body.batch) ? (body.batch as Array<Record<string, unknown>>) : [body]
    } catch {
      return []
    }
  })
}

/**
 * What a request to PostHog carried, readable: posthog-js sends some bodies as a form
 * (`data=<base64 of the JSON>`, its flags request among them), others as JSON.
 */
function readable(request: SinkRequest): string {
  const form = new URLSearchParams(request.body).get('data')
  if (form === null) return `${request.path} ${request.body}`
  return `${request.path} ${Buffer.from(form, 'base64').toString('utf8')}`
}

describe('Sentry in the browser', { timeout: 90_000 }, () => {
  let sentry: TelemetrySink
  let server: WebServer

  beforeAll(async () => {
    sentry = await sink()
    // The environment and release are the server's as it runs. Its own Sentry stays off,
    // so every event the sink receives is the browser's.
    server = await web({
      BROWSER_SENTRY_DSN: sentry.sentryDsn,
      SENTRY_ENVIRONMENT: 'staging',
      APP_VERSION: '5.6.7',
      GIT_COMMIT: 'b0a710c',
    })
  })

  it("opens the page's CSP connect-src to the configured Sentry", async () => {
    const csp = (await fetch(`${server.url}/`)).headers.get('content-security-policy') ?? ''
    const connectSrc = csp.split('; ').find((directive) => directive.startsWith('connect-src'))
    expect(connectSrc?.split(' ')).toContain(`http://127.0.0.1:${sentry.port}`)
  })

  it("receives what an error boundary caught, with the run-time environment and release, without the URL's email or query", async () => {
    const tab = await personsTab()
    const scripts = scriptsOf(tab)
    // A client-side fault as it happens in production: a chunk of the next page's code
    // cannot be downloaded (a deploy replaced it, a proxy dropped the request), so
    // rendering that page throws in the browser, and app/error.tsx catches an error that
    // has no digest (it never reached a server). Prefetches are refused, so the chunk is
    // first asked for by the navigation itself; the fault is switched on only once Sentry
    // has started, whose own code must still download.
    let failScripts = false
    await tab.route(`${server.url}/**`, (route) => {
      const request = route.request()
      if (request.headers()['next-router-prefetch']) return route.abort('failed')
      if (failScripts && request.resourceType() === 'script') return route.abort('failed')
      return route.continue()
    })
    // An address and a token in the page's URL: neither may reach Sentry, through a
    // breadcrumb or otherwise.
    await tab.goto(`${server.url}/?invited=ann.user@example.com&token=s3cr3t-t0ken`)
    const fromBrowser = fromBrowserOf(server)
    await sentry.waitFor((r) => fromBrowser(r) && r.body.includes('"type":"session"'), 20_000)
    failScripts = true
    await tab.getByRole('link', { name: 'Sign up' }).click()
    await expect
      .poll(() => tab.getByRole('heading', { name: 'Something went wrong' }).count())
      .toBe(1)

    await expect
      .poll(() => sentryItems(sentry.requests.filter(fromBrowser)).length, { timeout: 20_000 })
      .toBeGreaterThan(0)
    const event = sentryItems(sentry.requests.filter(fromBrowser))[0]?.payload as {
      platform?: string
      environment?: string
      release?: string
      request?: { url?: string }
      exception?: { values?: Array<{ type?: string; mechanism?: unknown }> }
    }
    expect(event.platform).toBe('javascript')
    expect(event.environment).toBe('staging')
    expect(event.release).toBe('5.6.7+b0a710c')
    expect(event.request?.url).toBe(`${server.url}/sign-up`)
    // The download that failed, reported by the boundary (handled: captureException), not
    // by a global handler that happened to see it.
    expect(event.exception?.values?.[0]).toMatchObject({
      type: 'ChunkLoadError',
      mechanism: { type: 'generic', handled: true },
    })
    const sent = JSON.stringify(sentry.requests.map((request) => request.body))
    expect(sent).not.toMatch(/ann\.user|%40example|s3cr3t-t0ken|invited=/)
    // The proof below that an unconfigured page downloads no SDK looks for this marker.
    expect(await sdksIn(scripts)).toContain('sentry')
  })

  it("sends the page load's spans, when browsers trace, without the URL's email or query", async () => {
    const traced = await sink()
    const tracing = await web({
      BROWSER_SENTRY_DSN: traced.sentryDsn,
      BROWSER_SENTRY_TRACES_SAMPLE_RATE: '1',
    })
    const tab = await personsTab()
    await tab.goto(`${tracing.url}/?invited=ann.user@example.com&token=s3cr3t-t0ken`)
    // Spans never pass beforeSend: the page load's reach the sink all the same.
    const load = await traced.waitFor(
      (r) => fromBrowserOf(tracing)(r) && r.body.includes('"pageload"'),
      30_000,
    )
    expect(load.body).toContain(`${tracing.url}/`)
    const sent = JSON.stringify(traced.requests.map((request) => request.body))
    expect(sent).not.toMatch(/ann\.user|%40example|s3cr3t-t0ken|invited=/)
  })
})

describe('PostHog in the browser', { timeout: 90_000 }, () => {
  it('sends a pageview whose URL has no query string', async () => {
    const posthog = await sink()
    const server = await web({
      BROWSER_POSTHOG_KEY: 'phc_browser',
      BROWSER_POSTHOG_HOST: posthog.posthogHost,
    })
    const tab = await personsTab()
    const scripts = scriptsOf(tab)
    await tab.goto(`${server.url}/?token=s3cr3t-t0ken`)

    const request = await posthog.waitFor(
      (r) => fromBrowserOf(server)(r) && posthogEvents([r]).some((e) => e.event === '$pageview'),
      20_000,
    )
    const pageview = posthogEvents([request]).find((e) => e.event === '$pageview') as {
      properties: Record<string, unknown>
    }
    expect(pageview.properties.$current_url).toBe(`${server.url}/`)
    expect(pageview.properties.token).toBe('phc_browser')
    expect(JSON.stringify(pageview)).not.toContain('s3cr3t-t0ken')
    // Nor any other request to PostHog: a feature-flag request would carry the page's
    // first URL, query and all, as a person property ($initial_current_url), past
    // before_send. The browser asks for no flags (the servers evaluate them).
    await tab.waitForLoadState('networkidle')
    const fromBrowser = posthog.requests.filter(fromBrowserOf(server))
    expect(fromBrowser.filter((r) => r.path.startsWith('/flags'))).toEqual([])
    expect(fromBrowser.map(readable).filter((body) => body.includes('s3cr3t-t0ken'))).toEqual([])
    // Nor what posthog-js keeps of the visit in the browser (the first URL, for a year, in
    // a cookie every request to the site carries and in localStorage).
    const kept = await tab.evaluate(() => document.cookie + JSON.stringify({ ...localStorage }))
    expect(decodeURIComponent(kept)).toContain('token=')
    expect(decodeURIComponent(kept)).not.toContain('s3cr3t-t0ken')
    expect(await sdksIn(scripts)).toContain('posthog')
  })
})

describe('a page whose server configured no browser key', { timeout: 90_000 }, () => {
  it('downloads neither SDK and sends nothing', async () => {
    const telemetry = await sink()
    // The server's own Sentry and PostHog, and a browser PostHog host, but no browser key:
    // none of it is the browser's.
    const server = await web({
      SENTRY_DSN: telemetry.sentryDsn,
      POSTHOG_KEY: 'phc_server',
      POSTHOG_HOST: telemetry.posthogHost,
      BROWSER_POSTHOG_HOST: telemetry.posthogHost,
    })
    const tab = await personsTab()
    const scripts = scriptsOf(tab)
    await tab.goto(`${server.url}/?token=s3cr3t-t0ken`, { waitUntil: 'networkidle' })
    // A client-side navigation too: the router's hook would start Sentry if it could.
    await tab.getByRole('link', { name: 'Sign up' }).click()
    await tab.waitForURL(`${server.url}/sign-up`)
    await tab.waitForLoadState('networkidle')

    expect(await tab.locator(`#${TELEMETRY_CONFIG_ELEMENT_ID}`).count()).toBe(0)
    expect(scripts.size).toBeGreaterThan(0)
    expect(await sdksIn(scripts)).toEqual([])
    expect(telemetry.requests.filter(fromBrowserOf(server))).toEqual([])
  })
})
