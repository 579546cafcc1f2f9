import { context, trace } from '@opentelemetry/api'
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks'
import { initSentry, Sentry } from '@repo/observability'
import {
  sentryItems,
  startTelemetrySink,
  type TelemetrySink,
  useIsolatedServices,
} from '@repo/testing'
import type { FastifyInstance } from 'fastify'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildTestServer, signUpOwner } from './helpers.ts'

// What a 5xx carries to Sentry, read from the envelopes a loopback sink receives: the ids
// that find its request, trace, user and organization, the release and environment, and
// no email address. 4xx answers and expected domain errors send nothing.
const services = useIsolatedServices()
let sink: TelemetrySink
let server: FastifyInstance
const TRACE_ID = '4bf92f3577b34da6a3ce929d0e0e4736'

/** The error events received so far whose exception message contains `marker`. */
const eventsWith = (marker: string) =>
  sentryItems(sink.requests)
    .map((item) => item.payload)
    .filter((event) => JSON.stringify(event.exception ?? event.message ?? '').includes(marker))

beforeAll(async () => {
  // The context manager the OpenTelemetry SDK registers when tracing is set up.
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable())
  sink = await startTelemetrySink()
  initSentry({
    dsn: sink.sentryDsn,
    environment: 'staging',
    release: '1.4.0+0123abc',
    service: 'api',
    dedupe: false,
  })
  const { database, redis } = services()
  server = await buildTestServer({ DATABASE_URL: database.appUrl, REDIS_URL: redis.url }, (app) => {
    app.get(
      '/v1/orgs/:orgId/test/crash',
      {
        config: { access: { organizationRole: 'member' } },
        // As OpenTelemetry's instrumentation does: the request runs inside its span.
        onRequest: (_request, _reply, done) =>
          context.with(
            trace.setSpan(
              context.active(),
              trace.wrapSpanContext({
                traceId: TRACE_ID,
                spanId: '00f067aa0ba902b7',
                traceFlags: 1,
              }),
            ),
            done,
          ),
      },
      async (request) => {
        const { marker = '' } = request.query as { marker?: string }
        throw new Error(`ledger for ann.owner@example.com out of balance ${marker}`)
      },
    )
    app.post('/test/duplicate', { config: { access: 'public' } }, async () => {
      await app.db.user.create({ data: { email: 'twice@example.com', name: 'One' } })
      await app.db.user.create({ data: { email: 'twice@example.com', name: 'Two' } })
    })
  })
})
afterAll(async () => {
  await server?.close()
  await Sentry.close(2_000)
  await sink?.close()
})

describe('Sentry in the API', () => {
  it('reports a 5xx with request, trace, user and organization ids, release and environment', async () => {
    const { headers, orgId, userId } = await signUpOwner(server)
    const res = await server.inject({
      url: `/v1/orgs/${orgId}/test/crash?marker=m-ids`,
      headers: { ...headers, 'x-request-id': 'req-sentry-1' },
    })
    expect(res.statusCode).toBe(500)
    await expect.poll(() => eventsWith('m-ids').length, { timeout: 10_000 }).toBe(1)
    const event = eventsWith('m-ids')[0] as Record<string, unknown>
    expect(event.tags).toMatchObject({
      request_id: 'req-sentry-1',
      organization_id: orgId,
      trace_id: TRACE_ID,
      route: '/v1/orgs/:orgId/test/crash',
      service: 'api',
    })
    expect(event.user).toEqual({ id: userId })
    expect(event.release).toBe('1.4.0+0123abc')
    expect(event.environment).toBe('staging')
  })

  it('sends no email address, not even inside an error message', async () => {
    const { headers, orgId } = await signUpOwner(server)
    await server.inject({ url: `/v1/orgs/${orgId}/test/crash?marker=m-pii`, headers })
    await expect.poll(() => eventsWith('m-pii').length, { timeout: 10_000 }).toBe(1)
    const body = JSON.stringify(eventsWith('m-pii')[0])
    expect(body).toContain('ledger for [email] out of balance')
    expect(body).not.toMatch(/@example\.com/)
    // No cookie or authorization header travels with the request data either.
    expect(body).not.toMatch(/Bearer|authorization/i)
  })

  it('carries no breadcrumb: what came before, possibly from another request, stays out', async () => {
    const { headers, orgId } = await signUpOwner(server)
    // What an integration or a team's code would leave, while another request runs.
    Sentry.addBreadcrumb({ message: 'fetched https://hooks.example.com/other-tenant m-crumb' })
    await server.inject({ url: `/v1/orgs/${orgId}/test/crash?marker=m-crumbs`, headers })
    await expect.poll(() => eventsWith('m-crumbs').length, { timeout: 10_000 }).toBe(1)
    const event = eventsWith('m-crumbs')[0] as Record<string, unknown>
    expect(event.breadcrumbs ?? []).toEqual([])
    expect(JSON.stringify(event)).not.toContain('other-tenant')
  })

  it('sends nothing for 4xx answers: an expected domain error, a mapped database refusal', async () => {
    const { headers, orgId } = await signUpOwner(server)
    // Expected domain errors of real routes: a wrong password, a key an unverified account may not create.
    const signIn = await server.inject({
      method: 'POST',
      url: '/v1/auth/sign-in',
      payload: { email: 'nobody-m-4xx@example.com', password: 'not the password' },
    })
    expect(signIn.statusCode).toBe(401)
    const apiKey = await server.inject({
      method: 'POST',
      url: `/v1/orgs/${orgId}/api-keys`,
      headers,
      payload: { name: 'ci m-4xx', scopes: ['projects:read'] },
    })
    expect(apiKey.statusCode, apiKey.body).toBe(403)
    const duplicate = await server.inject({ method: 'POST', url: '/test/duplicate' })
    expect(duplicate.statusCode).toBe(409)
    // The control: a 5xx after them arrives, so anything they sent would have arrived first.
    await server.inject({ url: `/v1/orgs/${orgId}/test/crash?marker=m-control`, headers })
    await expect.poll(() => eventsWith('m-control').length, { timeout: 10_000 }).toBe(1)
    await Sentry.flush(2_000)
    const all = sentryItems(sink.requests).map((item) => JSON.stringify(item.payload))
    expect(
      all.filter((event) =>
        /m-4xx|email_not_verified|invalid_credentials|twice|Unique constraint/.test(event),
      ),
    ).toEqual([])
  })
})
