import { fileURLToPath } from 'node:url'
import { ownerQuery } from '@repo/api/test-helpers'
import {
  createTestDatabase,
  createTestRedis,
  type OtlpReceiver,
  type ReceivedSpan,
  type SmtpSink,
  startOtlpReceiver,
  startSmtpSink,
  startTelemetrySink,
  type TelemetrySink,
} from '@repo/testing'
import { startOnFreePort } from '@repo/testing/servers'
import type { Browser } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { ChildServer } from './harness/child.ts'
import { Cleanup } from './harness/cleanup.ts'
import {
  launchBrowser,
  newContext,
  startApiProcess,
  startWebServer,
  startWorker,
  waitForEmail,
} from './harness/index.ts'
import { PASSWORD, startWebhookReceiver, uniqueEmail } from './helpers.ts'

// One trace from the browser's request to the worker's job (ADR 032): web, api and worker
// run as production starts them, exporting to a loopback OTLP receiver; a sign-up through
// the web app must leave spans of all three, and of Postgres and Redis, under one trace id.

const REPORT_MODULES = `--import=${fileURLToPath(new URL('./fixtures/report-otel-modules.mjs', import.meta.url))}`
const LOADED = /tracing module loaded: (\S+)/g

interface TracedStack {
  webUrl: string
  apiUrl: string
  smtp: SmtpSink
  /** One statement as the database owner. */
  sql(query: string, values?: unknown[]): Promise<Record<string, unknown>[]>
  /** What each process printed. */
  outputs(): Record<'api' | 'worker' | 'web', string>
  stop(): Promise<void>
}

/** web, api and worker as processes, with `env` (the tracing settings) for all three. */
async function startProcesses(env: Record<string, string>): Promise<TracedStack> {
  const cleanup = new Cleanup()
  try {
    const [database, redis, smtp] = await Promise.all([
      createTestDatabase(),
      createTestRedis(),
      startSmtpSink(),
    ])
    cleanup.defer(() => database.drop())
    cleanup.defer(() => redis.release())
    cleanup.defer(() => smtp.close())
    const shared = {
      ...env,
      REDIS_URL: redis.url,
      // Every module the process loads is reported, so a test can see what tracing costs.
      NODE_OPTIONS: REPORT_MODULES,
      // Spans leave within a moment instead of every 5 s.
      OTEL_BSP_SCHEDULE_DELAY: '100',
      // Webhooks go to a receiver on loopback.
      WEBHOOKS_ALLOW_PRIVATE_TARGETS: 'true',
    }
    const children: ChildServer[] = []
    const track = <T extends ChildServer>(server: T) => {
      children.push(server)
      cleanup.defer(server.stop)
      return server
    }
    const [api, worker] = await Promise.all([
      startApiProcess({ ...shared, DATABASE_URL: database.appUrl, TRUST_PROXY: 'loopback' }).then(
        track,
      ),
      startWorker({ ...shared, DATABASE_URL: database.workerUrl, SMTP_URL: smtp.url }, [
        '--import',
        './src/tracing.ts',
      ]).then(track),
    ])
    const web = track(
      await startOnFreePort((port) =>
        startWebServer({ port, env: { ...shared, API_URL: api.url } }),
      ),
    )
    return {
      webUrl: web.url,
      apiUrl: api.url,
      smtp,
      sql: (query, values = []) => ownerQuery(database.url, query, values),
      outputs: () => ({ api: api.output(), worker: worker.output(), web: web.output() }),
      stop: () => cleanup.run(),
    }
  } catch (error) {
    await cleanup.run()
    throw error
  }
}

/** Signs up through the web app's form, as a person does. */
async function signUpThroughTheWebApp(browser: Browser, webUrl: string, email: string) {
  const context = await newContext(browser)
  try {
    const page = await context.newPage()
    await page.goto(`${webUrl}/sign-up`)
    await page.getByLabel('Name').fill('Tracy Trace')
    await page.getByLabel('Email').fill(email)
    await page.getByLabel('Password').fill(PASSWORD)
    await page.getByRole('button', { name: 'Sign up' }).click()
    await page.waitForURL(/\/orgs\/new/)
  } finally {
    await context.close()
  }
}

const loadedModules = (output: string) => [...output.matchAll(LOADED)].map((match) => match[1])

let browser: Browser
let receiver: OtlpReceiver
let sentry: TelemetrySink
beforeAll(async () => {
  ;[browser, receiver, sentry] = await Promise.all([
    launchBrowser(),
    startOtlpReceiver(),
    startTelemetrySink(),
  ])
})
afterAll(async () => {
  await Promise.all([browser?.close(), receiver?.close(), sentry?.close()])
})

describe('with an OTLP endpoint', { timeout: 120_000 }, () => {
  let stack: TracedStack
  beforeAll(async () => {
    stack = await startProcesses({
      OTEL_EXPORTER_OTLP_ENDPOINT: receiver.endpoint,
      // What a hosted backend's key looks like: sent with every export.
      OTEL_EXPORTER_OTLP_HEADERS: 'x-collector-key=k3y',
      // Sentry beside OpenTelemetry, as production runs them: it must not trace or break.
      SENTRY_DSN: sentry.sentryDsn,
      APP_VERSION: '1.2.3',
      GIT_COMMIT: 'abc1234',
    })
  }, 120_000)
  afterAll(async () => {
    await stack?.stop()
  })

  it("joins web, api and worker under a sign-up's trace id, with Postgres and Redis", async () => {
    const email = uniqueEmail('traced')
    await signUpThroughTheWebApp(browser, stack.webUrl, email)
    await waitForEmail(stack.smtp, { to: email })

    // The API's sign-up request: its trace is the one the rest must join.
    const signUp = await receiver.waitForSpan(
      (span) => span.service === 'api' && span.attributes['http.route'] === '/v1/auth/sign-up',
    )
    // The request's server span, named as a trace list shows it: method and route pattern.
    expect(signUp.kind).toBe(2)
    expect(signUp.name).toBe('POST /v1/auth/sign-up')
    const inTrace = (match: (span: ReceivedSpan) => boolean) =>
      receiver.spans.some((span) => span.traceId === signUp.traceId && match(span))
    const describeTrace = () =>
      receiver.spans
        .filter((span) => span.traceId === signUp.traceId)
        .map((span) => `${span.service} ${span.scope} ${span.name}`)
        .join('\n')

    // The web app's server made the call (its fetch span is the API request's parent).
    await expect
      .poll(() => inTrace((span) => span.service === 'web'), { timeout: 15_000 })
      .toBe(true)
    // The worker processed the verification email the sign-up put in the outbox.
    await expect
      .poll(
        () =>
          inTrace(
            (span) => span.service === 'worker' && span.kind === 5 && span.name.includes('email'),
          ),
        { timeout: 15_000, message: describeTrace() },
      )
      .toBe(true)
    expect(inTrace((span) => span.scope === '@opentelemetry/instrumentation-pg')).toBe(true)
    expect(inTrace((span) => span.scope === '@opentelemetry/instrumentation-ioredis')).toBe(true)
    expect(inTrace((span) => span.name.startsWith('prisma:'))).toBe(true)

    // The relay's polling is not traced: its queries would be most of what is exported.
    expect(
      receiver.spans.filter((span) => JSON.stringify(span.attributes).includes('outbox_claim')),
    ).toEqual([])

    // Every export carried the configured header.
    expect(receiver.headers.map((headers) => headers['x-collector-key'])).not.toContain(undefined)

    // Resource attributes say which build, and where.
    expect(signUp.resource).toMatchObject({
      'service.name': 'api',
      'service.version': '1.2.3',
      'vcs.ref.head.revision': 'abc1234',
      'deployment.environment.name': 'test',
    })
  })

  it('sends traceparent on webhook deliveries, in the trace of the change', async () => {
    const hooks = await startWebhookReceiver()
    try {
      const call = async (path: string, body: unknown, token?: string) => {
        const response = await fetch(`${stack.apiUrl}${path}`, {
          method: 'POST',
          headers: {
            'content-type': 'application/json',
            ...(token ? { authorization: `Bearer ${token}` } : {}),
          },
          body: JSON.stringify(body),
        })
        expect(response.status, await response.clone().text()).toBe(201)
        return (await response.json()) as Record<string, unknown> & { id: string }
      }
      const email = uniqueEmail('hooks')
      const { token } = (await call('/v1/auth/sign-up', {
        email,
        password: PASSWORD,
        name: 'Hook Owner',
      })) as unknown as { token: string }
      // Registering webhooks needs a verified address: verified here, as a test set-up.
      await stack.sql('UPDATE users SET email_verified_at = now() WHERE email = $1', [email])
      const org = await call('/v1/orgs', { name: 'Traced Hooks' }, token)
      await call(
        `/v1/orgs/${org.id}/webhook-endpoints`,
        // A customer's endpoint with a secret in its query: not exported (url.full).
        { url: `${hooks.url}?secret=SECRET3`, events: ['project.created'] },
        token,
      )
      await call(`/v1/orgs/${org.id}/projects`, { name: 'Traced project' }, token)

      await expect.poll(() => hooks.received(), { timeout: 20_000 }).toBe(1)
      const traceparent = String(hooks.requests[0]?.headers.traceparent)
      expect(traceparent).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-0[01]$/)
      const created = await receiver.waitForSpan(
        (span) =>
          span.service === 'api' &&
          span.attributes['http.route'] === '/v1/orgs/:orgId/projects' &&
          span.attributes['http.request.method'] === 'POST',
      )
      expect(traceparent.split('-')[1]).toBe(created.traceId)
    } finally {
      await hooks.close()
    }
  })

  it('exports no token, ticket or signed-up address, and no trace of a probe', async () => {
    // A reset link as the email carries it, the queue dashboard's single-use ticket, and a
    // sign-up whose address travels through the API, the outbox, BullMQ and the worker.
    const context = await newContext(browser)
    try {
      const page = await context.newPage()
      await page.goto(`${stack.webUrl}/reset-password?token=SECRETVALUE`)
    } finally {
      await context.close()
    }
    await fetch(`${stack.apiUrl}/admin/queues/enter?ticket=SECRET2`, { redirect: 'manual' })
    const email = uniqueEmail('redacted')
    await signUpThroughTheWebApp(browser, stack.webUrl, email)
    await waitForEmail(stack.smtp, { to: email })
    // Kubernetes' probes of every service.
    for (const url of [stack.webUrl, stack.apiUrl])
      for (const path of ['/healthz', '/readyz', '/healthz?probe=1']) await fetch(`${url}${path}`)

    // The spans of each request arrived.
    await receiver.waitForSpan(
      (span) =>
        span.service === 'web' &&
        String(span.attributes['http.target']).startsWith('/reset-password'),
    )
    await receiver.waitForSpan(
      (span) =>
        span.service === 'api' &&
        String(span.attributes['url.path']).startsWith('/admin/queues/enter'),
    )
    await receiver.waitForSpan(
      (span) => span.service === 'worker' && span.kind === 5 && span.name.includes('email'),
    )
    const leaked = (needle: RegExp) =>
      receiver.spans
        .filter((span) => needle.test(JSON.stringify([span.name, span.attributes])))
        .map((span) => `${span.service} ${span.scope} ${span.name}`)
    // The webhook delivery's endpoint (previous test) carried SECRET3.
    expect(leaked(/SECRETVALUE|SECRET2|SECRET3/)).toEqual([])
    const [local] = email.split('@')
    expect(leaked(new RegExp(`${local}(@|%40)`))).toEqual([])
    // No probe made a trace, in any service.
    const probes = receiver.spans.filter((span) =>
      ['http.target', 'url.path'].some((key) =>
        /^\/(healthz|readyz)/.test(String(span.attributes[key] ?? '')),
      ),
    )
    expect(probes.map((span) => `${span.service} ${span.name}`)).toEqual([])
  })

  it("leaves Sentry and OpenTelemetry out of each other's way, and loads the SDK everywhere", () => {
    // No process reported a crash of its own (two Fastify instrumentations collide).
    expect(
      sentry.requests.filter((req) =>
        /"mechanism":\{[^}]*"type":"[^"]*(onuncaughtexception|onunhandledrejection)/i.test(
          req.body,
        ),
      ),
    ).toEqual([])
    // The module report works: tracing on loads the SDK in every service.
    for (const output of Object.values(stack.outputs()))
      expect(loadedModules(output)).toContain('@opentelemetry/sdk-node/')
  })
})

describe('without an endpoint', { timeout: 120_000 }, () => {
  it('sends nothing and loads no SDK, no instrumentation and no module hook', async () => {
    const before = receiver.requests()
    const stack = await startProcesses({})
    try {
      const email = uniqueEmail('untraced')
      await signUpThroughTheWebApp(browser, stack.webUrl, email)
      await waitForEmail(stack.smtp, { to: email })
      for (const [service, output] of Object.entries(stack.outputs()))
        expect(loadedModules(output), service).toEqual([])
      expect(receiver.requests()).toBe(before)
    } finally {
      await stack.stop()
    }
  })
})
