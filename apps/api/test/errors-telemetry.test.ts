import { initSentry, Sentry } from '@repo/observability'
import {
  sentryItems,
  startTelemetrySink,
  type TelemetrySink,
  useIsolatedServices,
} from '@repo/testing'
import type { FastifyInstance } from 'fastify'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { z } from 'zod'
import { buildTestServer } from './helpers.ts'

// Sentry for real: the SDK is initialised with a DSN on a loopback sink, and the test
// reads what arrives there. (Each test file runs in its own process, so this init stays here.)
const services = useIsolatedServices()
let sink: TelemetrySink
let server: FastifyInstance
/** Sentry's isolation scope outside any request. */
let processIsolationScope: unknown

beforeAll(async () => {
  sink = await startTelemetrySink()
  // As .env.example and production set it. Sentry's SDK reads it itself, and any number
  // there, 0 included, would have it make a span of every request and query.
  process.env.SENTRY_TRACES_SAMPLE_RATE = '0'
  initSentry({
    dsn: sink.sentryDsn,
    environment: 'test',
    release: 'test',
    service: 'api',
  })
  processIsolationScope = Sentry.getIsolationScope()
  const { database, redis } = services()
  server = await buildTestServer({ DATABASE_URL: database.appUrl, REDIS_URL: redis.url }, (app) => {
    app.get('/test/crash', { config: { access: 'public' } }, async (request) => {
      // A marker per call: Sentry drops an event identical to the one before it.
      const { marker = '' } = request.query as { marker?: string }
      throw new Error(`connection to 10.0.0.7 failed for user admin password hunter2 ${marker}`)
    })
    app.post('/test/duplicate-user', { config: { access: 'public' } }, async () => {
      await app.db.user.create({ data: { email: 'same@example.com', name: 'One' } })
      await app.db.user.create({ data: { email: 'same@example.com', name: 'Two' } })
    })
    app.post('/test/missing-row', { config: { access: 'public' } }, async () => {
      await app.db.user.update({
        where: { id: '00000000-0000-7000-8000-000000000000' },
        data: { name: 'x' },
      })
    })
    app.post('/test/broken-reference', { config: { access: 'public' } }, async () => {
      await app.db.session.create({
        data: {
          userId: '00000000-0000-7000-8000-000000000000',
          tokenHash: 'f'.repeat(64),
          expiresAt: new Date(Date.now() + 1000),
          absoluteExpiresAt: new Date(Date.now() + 1000),
        },
      })
    })
    app.get('/test/quiet', { config: { access: 'public' } }, async () => ({ ok: true }))
    app.get('/test/isolation-scope', { config: { access: 'public' } }, async () => ({
      forked:
        Sentry.getIsolationScope() !== Sentry.getGlobalScope() &&
        Sentry.getIsolationScope() !== processIsolationScope,
    }))
    app.get('/test/conflict', { config: { access: 'public' } }, async () => {
      throw Object.assign(new Error('duplicate key in table users on 10.1.2.3'), {
        statusCode: 409,
      })
    })
    app.post(
      '/test/validated',
      {
        config: { access: 'public' },
        schema: { body: z.object({ name: z.string().min(1).max(10) }) },
      },
      async () => ({}),
    )
  })
})
afterAll(async () => {
  await server?.close()
  await Sentry.close(2_000)
  await sink?.close()
})

describe('unexpected errors', () => {
  it('answer a generic 500 problem with the request id, and leak nothing', async () => {
    const res = await server.inject({ url: '/test/crash', headers: { 'x-request-id': 'crash-1' } })
    expect(res.statusCode).toBe(500)
    expect(res.headers['content-type']).toMatch(/^application\/problem\+json/)
    expect(res.json()).toEqual({
      type: 'about:blank',
      title: 'Internal Server Error',
      status: 500,
      detail: 'An unexpected error occurred. Quote request id crash-1 when reporting it.',
    })
    expect(res.body).not.toMatch(/hunter2|10\.0\.0\.7|Error:|at /)
  })

  it('reach Sentry with the real message and stack', async () => {
    await server.inject({ url: '/test/crash' })
    const event = await sink.waitFor(
      (req) => req.path.startsWith('/api/1/envelope/') && req.body.includes('hunter2'),
    )
    expect(event.body).toContain('"type":"Error"')
    expect(event.body).toContain('errors-telemetry.test.ts')
  })
})

describe('Sentry without OpenTelemetry', () => {
  it('makes no span of its own for a request, whatever SENTRY_TRACES_SAMPLE_RATE says', async () => {
    // Over real HTTP: Sentry follows requests through Node's http server, not inject().
    const address = await server.listen({ host: '127.0.0.1', port: 0 })
    for (let i = 0; i < 3; i++) expect((await fetch(`${address}/test/quiet`)).status).toBe(200)
    // A span Sentry started and then left unsampled is counted as dropped, and the count is
    // sent on flush: none may be, so none was started.
    await Sentry.flush(2_000)
    const dropped = sentryItems(sink.requests, 'client_report').flatMap(
      ({ payload }) => (payload.discarded_events as { reason: string; category: string }[]) ?? [],
    )
    expect(dropped.filter(({ reason }) => reason === 'sample_rate')).toEqual([])
  })

  it('forks no scope of its own per request', async () => {
    // Sentry's Http integration forks an isolation scope for every request it sees and
    // copies its headers and URL onto it (and records a session): work of every request,
    // for reports that carry their context themselves (captureError).
    const address = server.server.listening
      ? `http://127.0.0.1:${(server.server.address() as { port: number }).port}`
      : await server.listen({ host: '127.0.0.1', port: 0 })
    const res = await fetch(`${address}/test/isolation-scope`)
    expect(await res.json()).toEqual({ forked: false })
  })
})

describe('client errors', () => {
  it('answer 400 naming each bad field, for empty, wrong-typed and oversized input', async () => {
    for (const payload of [{}, { name: 42 }, { name: '' }, { name: 'x'.repeat(11) }]) {
      const res = await server.inject({ method: 'POST', url: '/test/validated', payload })
      expect(res.statusCode, JSON.stringify(payload)).toBe(400)
      expect(res.headers['content-type']).toMatch(/^application\/problem\+json/)
      expect(res.json()).toMatchObject({
        type: 'urn:groundwork:problem:validation',
        status: 400,
        errors: [expect.objectContaining({ field: 'body.name' })],
      })
    }
  })

  it('reject a body over the size limit with 413', async () => {
    const res = await server.inject({
      method: 'POST',
      url: '/test/validated',
      payload: { name: 'x'.repeat(2_000_000) },
    })
    expect(res.statusCode).toBe(413)
    expect(res.headers['content-type']).toMatch(/^application\/problem\+json/)
  })

  it('map database refusals to 409, 404 and 422 without naming constraints', async () => {
    const cases = [
      ['/test/duplicate-user', 409, 'urn:groundwork:problem:conflict'],
      ['/test/missing-row', 404, 'urn:groundwork:problem:not_found'],
      ['/test/broken-reference', 422, 'urn:groundwork:problem:invalid_reference'],
    ] as const
    for (const [url, status, type] of cases) {
      const res = await server.inject({ method: 'POST', url })
      expect(res.statusCode, url).toBe(status)
      expect(res.json().type).toBe(type)
      expect(res.body).not.toMatch(/users_email_key|sessions_user_id_fkey|Prisma|P20/)
    }
  })

  it('keep internal messages of non-Fastify errors out of 4xx answers', async () => {
    const res = await server.inject({ url: '/test/conflict' })
    expect(res.statusCode).toBe(409)
    expect(res.json()).toEqual({ type: 'about:blank', title: 'Conflict', status: 409 })
  })

  it('answer malformed JSON with exactly 400', async () => {
    const res = await server.inject({
      method: 'POST',
      url: '/test/validated',
      headers: { 'content-type': 'application/json' },
      payload: '{"name": "unterminated',
    })
    expect(res.statusCode).toBe(400)
    expect(res.headers['content-type']).toMatch(/^application\/problem\+json/)
    expect(res.json().detail).toMatch(/JSON/)
  })

  it('are not reported to Sentry as errors', async () => {
    const errorEvents = () =>
      sink.requests.filter((req) => req.body.includes('{"type":"event"}')).length
    await Sentry.flush(2_000)
    const before = errorEvents()
    await server.inject({ method: 'POST', url: '/test/validated', payload: { name: 42 } })
    await server.inject({ url: '/test/conflict' })
    await server.inject({ url: '/test/crash?marker=control' })
    // The crash is the control: it must arrive, the two client errors must not.
    await sink.waitFor(() => errorEvents() > before)
    await Sentry.flush(2_000)
    expect(errorEvents()).toBe(before + 1)
  })
})
