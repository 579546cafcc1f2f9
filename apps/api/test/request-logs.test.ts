import type { AddressInfo } from 'node:net'
import {
  captureLogs,
  POISON,
  poisonedRecord,
  poisonIn,
  registerTestTracer,
  useIsolatedServices,
} from '@repo/testing'
import type { FastifyInstance } from 'fastify'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildServer } from '../src/build-server.ts'
import { ownerQuery, signUpOwner, testEnv } from './helpers.ts'

// The API's logs as it writes them (the env-built logger, read back from its stream):
// one completion line per request, the request id from the caller or made up, the context
// of who made the request, the active trace, and nothing secret whatever arrives.
const services = useIsolatedServices()
const tracing = registerTestTracer()
const logs = captureLogs()
let server: FastifyInstance
let base = ''

beforeAll(async () => {
  const { database, redis } = services()
  server = await buildServer(
    testEnv({
      DATABASE_URL: database.appUrl,
      REDIS_URL: redis.url,
      LOG_LEVEL: 'debug',
      APP_VERSION: '9.9.9',
      SENTRY_ENVIRONMENT: 'staging',
    }),
    { logDestination: logs.destination },
  )
  server.post('/test/poisoned', { config: { access: 'public' } }, async (request) => {
    // What careless code does: log everything it was given, then fail mentioning a token.
    request.log.info(
      { headers: request.headers, body: request.body, record: poisonedRecord() },
      `handling a request for ${POISON.email}`,
    )
    throw new Error(`upstream refused reset_token=${POISON.resetToken} for ${POISON.email}`)
  })
  server.get('/test/in-span', { config: { access: 'public' } }, async (request) => {
    request.log.info('inside the handler')
    return {}
  })
  server.post(
    '/test/orgs/:orgId/note',
    { config: { access: { organizationRole: 'member' } } },
    async (request) => {
      request.log.info('a line written by the route')
      return {}
    },
  )
  // Over a real socket too: reading a streamed body leaves the request's async context.
  await server.listen({ host: '127.0.0.1', port: 0 })
  base = `http://127.0.0.1:${(server.server.address() as AddressInfo).port}`
})
afterAll(async () => {
  await server?.close()
  await tracing.stop()
})

const linesOf = (requestId: string) => logs.lines().filter((line) => line.requestId === requestId)
const completions = (requestId: string) =>
  linesOf(requestId).filter((line) => line.msg === 'request completed')

describe('request logs', () => {
  it('write one completion line with the route pattern, status, duration and who asked', async () => {
    const owner = await signUpOwner(server, 'Logged')
    const res = await server.inject({
      url: `/v1/orgs/${owner.orgId}/projects?limit=5&search=needle-in-query`,
      headers: { ...owner.headers, 'x-request-id': 'list-projects-1' },
    })
    expect(res.statusCode).toBe(200)
    const lines = completions('list-projects-1')
    expect(lines).toHaveLength(1)
    expect(lines[0]).toMatchObject({
      level: 'info',
      service: 'api',
      version: '9.9.9',
      environment: 'staging',
      method: 'GET',
      route: '/v1/orgs/:orgId/projects',
      status: 200,
      durationMs: expect.any(Number),
      requestId: 'list-projects-1',
      organizationId: owner.orgId,
      userId: owner.userId,
    })
    // The id once per line, under one name (no second binding from Fastify's child logger).
    const raw = logs
      .text()
      .split('\n')
      .filter((line) => line.includes('"list-projects-1"'))
    expect(raw.length).toBeGreaterThan(0)
    for (const line of raw) expect(line.match(/"(requestId|reqId)":/g)).toEqual(['"requestId":'])
    // The pattern, never the URL: neither the ids in the path nor the query string.
    expect(JSON.stringify(linesOf('list-projects-1'))).not.toContain('needle-in-query')
    expect(logs.text()).not.toContain('limit=5')
    expect(logs.lines().filter((line) => line.msg === 'incoming request')).toEqual([])
  })

  it("stamp every line written after authentication with the user's and organization's ids", async () => {
    const owner = await signUpOwner(server, 'Context')
    const res = await fetch(`${base}/test/orgs/${owner.orgId}/note`, {
      method: 'POST',
      headers: {
        ...owner.headers,
        'x-request-id': 'context-1',
        'content-type': 'application/json',
      },
      body: JSON.stringify({ note: 'x'.repeat(100_000) }),
    })
    expect(res.status).toBe(200)
    const written = linesOf('context-1').find((line) => line.msg === 'a line written by the route')
    expect(written).toMatchObject({ organizationId: owner.orgId, userId: owner.userId })
  })

  it('log a URL no route matches without its text, and probes at debug', async () => {
    await server.inject({ url: '/nowhere/secret-path?q=1', headers: { 'x-request-id': 'lost-1' } })
    expect(completions('lost-1')).toMatchObject([{ route: '(no route)', status: 404 }])
    expect(logs.text()).not.toContain('secret-path')
    await server.inject({ url: '/healthz', headers: { 'x-request-id': 'probe-1' } })
    expect(completions('probe-1')).toMatchObject([{ level: 'debug', route: '/healthz' }])
  })

  it('carry the active trace id, and no trace id without a span', async () => {
    await tracing.tracer.startActiveSpan('incoming', async (span) => {
      await server.inject({ url: '/test/in-span', headers: { 'x-request-id': 'traced-1' } })
      span.end()
    })
    const traced = linesOf('traced-1')
    expect(traced.length).toBeGreaterThanOrEqual(2)
    for (const line of traced) expect(line.traceId).toMatch(/^[0-9a-f]{32}$/)
    await server.inject({ url: '/test/in-span', headers: { 'x-request-id': 'untraced-1' } })
    const untraced = linesOf('untraced-1')
    expect(untraced.map((line) => line.msg)).toContain('inside the handler')
    for (const line of untraced) expect(line).not.toHaveProperty('traceId')
  })

  it('redact secrets and emails from poisoned headers, bodies, records and errors', async () => {
    const poisonedHeaders = {
      'x-request-id': 'poisoned-1',
      authorization: `Bearer ${POISON.bearer}`,
      cookie: `__Host-groundwork_session=${POISON.cookie}`,
      'x-api-key': POISON.apiKey,
    }
    const body = {
      email: POISON.email,
      password: POISON.password,
      profile: { totp: POISON.totp, deep: { refreshToken: POISON.refreshToken } },
    }
    const crashed = await server.inject({
      method: 'POST',
      url: '/test/poisoned',
      headers: poisonedHeaders,
      payload: body,
    })
    expect(crashed.statusCode).toBe(500)
    // A real route too: a sign-in with the poisoned credentials.
    const signIn = await server.inject({
      method: 'POST',
      url: '/v1/auth/sign-in',
      headers: { ...poisonedHeaders, 'x-request-id': 'poisoned-2' },
      payload: { email: POISON.email, password: POISON.password, totp: POISON.totp },
    })
    expect(signIn.statusCode).toBeGreaterThanOrEqual(400)

    expect(poisonIn(logs.text())).toEqual([])
    const handled = linesOf('poisoned-1').find((line) =>
      line.msg?.toString().startsWith('handling'),
    )
    expect(handled).toMatchObject({
      msg: 'handling a request for [email]',
      headers: { authorization: '[redacted]', cookie: '[redacted]', 'x-api-key': '[redacted]' },
      body: { email: '[email]', password: '[redacted]', profile: { totp: '[redacted]' } },
      record: { harmless: 'visible-field' },
    })
    expect(completions('poisoned-1')).toMatchObject([
      { level: 'error', status: 500, route: '/test/poisoned' },
    ])
    const failure = linesOf('poisoned-1').find((line) => line.msg === 'request failed')
    expect(failure).toMatchObject({
      err: { message: 'upstream refused reset_token=[redacted] for [email]' },
    })
    expect(completions('poisoned-2')).toMatchObject([{ route: '/v1/auth/sign-in' }])
  })
})

describe('request ids', () => {
  const idOf = async (headers: Record<string, string>) => {
    const res = await server.inject({ url: '/version', headers })
    const id = res.headers['x-request-id'] as string
    return { id, logged: completions(id) }
  }

  it('are made up when absent, returned and logged', async () => {
    const { id, logged } = await idOf({})
    expect(id).toMatch(/^[0-9a-f-]{36}$/)
    expect(logged).toHaveLength(1)
  })

  it("echo a caller's plain id", async () => {
    const { id, logged } = await idOf({ 'x-request-id': 'caller-7.a:b_c' })
    expect(id).toBe('caller-7.a:b_c')
    expect(logged).toHaveLength(1)
  })

  it.each([
    ['too long', 'a'.repeat(129)],
    ['a header injection', 'x\r\nSet-Cookie: a=b'],
    ['a log injection', 'x"}\n{"level":"fatal","msg":"forged'],
    ['markup', '<script>alert(1)</script>'],
    ['SQL', "1' OR '1'='1"],
  ])('replace a hostile one: %s', async (_what, hostile) => {
    const { id, logged } = await idOf({ 'x-request-id': hostile })
    expect(id).not.toBe(hostile)
    expect(id).toMatch(/^[0-9a-f-]{36}$/)
    expect(logged).toHaveLength(1)
    expect(logs.text()).not.toContain(hostile)
  })
})

describe('a pooled Postgres connection the server ends while idle', () => {
  it('is logged as a warning, and the next request gets a new one', async () => {
    await signUpOwner(server, 'Before the loss')
    // What a failover, a restarted server or a proxy's idle timeout does to the API's idle
    // connections: all of them ended (the owner's, which sends this, is not among them).
    await ownerQuery(
      services().database.url,
      `SELECT pg_terminate_backend(pid) FROM pg_stat_activity
       WHERE datname = current_database() AND usename <> current_user AND state = 'idle'`,
    )
    const lost = () =>
      logs.lines().filter((line) => String(line.msg).includes('ended an idle pooled connection'))
    await expect.poll(() => lost().length).toBeGreaterThan(0)
    expect(lost()[0]).toMatchObject({
      level: 'warn',
      err: { message: expect.stringMatching(/terminat/i) },
    })
    // Nothing failed: the next request that needs Postgres gets a new connection.
    const after = await signUpOwner(server, 'After the loss')
    expect(after.orgId).toMatch(/^[0-9a-f-]{36}$/)
  })
})
