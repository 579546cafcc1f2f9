import { captureLogs, useIsolatedServices } from '@repo/testing'
import fc from 'fast-check'
import type { FastifyInstance, InjectOptions } from 'fastify'
import { serializerCompiler as zodSerializerCompiler } from 'fastify-type-provider-zod'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { z } from 'zod'
import { buildServer } from '../src/build-server.ts'
import type { CompiledResponseSchema } from '../src/lib/serializer.ts'
import { valuesOf } from './fixtures/json-schema-values.ts'
import { ownerQuery, signUpOwner, testEnv } from './helpers.ts'

// Production serializes answers with fast-json-stringify, compiled from each route's zod
// response schema; development and tests with zod (ADR 039). Here: every route's schema
// compiles, each writes what zod writes for any value zod accepts, and the same requests
// against one database get the same bytes through both.
const services = useIsolatedServices()
const logs = captureLogs()
const compiledSchemas: CompiledResponseSchema[] = []
/** responseSerialization 'compiled', as production; everything else as in tests. */
let compiled: FastifyInstance
/** Built as every test builds the API: NODE_ENV=test, so responses are validated. */
let validated: FastifyInstance

/** Routes whose answers break or stretch their schemas, on each server. */
function addTestRoutes(server: FastifyInstance) {
  const named = { 200: z.object({ name: z.string() }) }
  const route = (url: string, response: Record<number, z.ZodType>, answer: unknown) =>
    server.get(url, { config: { access: 'public' }, schema: { response } }, async () => answer)
  route('/test/violates', named, { name: 42 })
  route('/test/incomplete', named, {})
  route('/test/leaks', named, { name: 'Ada', passwordHash: 'argon2id$secret' })
  route('/test/trimmed', { 200: z.object({ name: z.string().trim() }) }, { name: '  padded  ' })
  route(
    '/test/unknown-items',
    { 200: z.object({ items: z.array(z.unknown()) }) },
    {
      items: [1, undefined],
    },
  )
}

beforeAll(async () => {
  const { database, redis } = services()
  const env = testEnv({ DATABASE_URL: database.appUrl, REDIS_URL: redis.url, LOG_LEVEL: 'warn' })
  compiled = await buildServer(env, {
    responseSerialization: 'compiled',
    onResponseSchema: (entry) => compiledSchemas.push(entry),
    logDestination: logs.destination,
  })
  validated = await buildServer(env, { logDestination: logs.destination })
  for (const server of [compiled, validated]) {
    addTestRoutes(server)
    await server.ready()
  }
})
afterAll(async () => {
  await Promise.all([compiled?.close(), validated?.close()])
})

const appSchemas = () => compiledSchemas.filter((entry) => !entry.url.startsWith('/test/'))
/**
 * Answers zod serializes in production too, as `METHOD /url status: reason` (the start-up
 * warning says the same). A schema outside the faithful subset lands here deliberately.
 */
const ACCEPTED_FALLBACKS: string[] = []

describe('response serialization', () => {
  it("compiles every route's response schema for production, but those accepted to fall back", async () => {
    const fallbacks = appSchemas()
      .filter((entry) => entry.fallback)
      .map((entry) => `${entry.method} ${entry.url} ${entry.status}: ${entry.fallback}`)
    expect(fallbacks).toEqual(ACCEPTED_FALLBACKS)
    // Every answer the OpenAPI document declares went through the compiler.
    const doc = (await compiled.inject({ url: '/openapi.json' })).json() as {
      paths: Record<string, Record<string, { responses: Record<string, unknown> }>>
    }
    const seen = new Set(
      appSchemas().map(
        (entry) => `${entry.method} ${entry.url.replace(/\/$/, '') || '/'} ${entry.status}`,
      ),
    )
    const declared = Object.entries(doc.paths)
      .filter(([path]) => !path.startsWith('/test/'))
      .flatMap(([path, operations]) =>
        Object.entries(operations).flatMap(([method, operation]) =>
          Object.keys(operation.responses).map(
            (status) =>
              `${method.toUpperCase()} ${path.replace(/\{(\w+)\}/g, ':$1').replace(/\/$/, '') || '/'} ${status}`,
          ),
        ),
      )
    expect(declared.length).toBeGreaterThan(100)
    expect(declared.filter((answer) => !seen.has(answer))).toEqual([])
  })

  it('writes, for every response schema of every route, the same JSON as zod for any value zod accepts', () => {
    const bySchema = new Map<z.core.$ZodType, CompiledResponseSchema>()
    for (const entry of appSchemas())
      if (!bySchema.has(entry.schema)) bySchema.set(entry.schema, entry)
    expect(bySchema.size).toBeGreaterThan(30)
    for (const entry of bySchema.values()) {
      const where = `${entry.method} ${entry.url} ${entry.status}`
      const viaZod = zodSerializerCompiler({
        schema: entry.schema,
        method: entry.method,
        url: entry.url,
        httpStatus: entry.status,
      })
      fc.assert(
        fc.property(valuesOf(entry.jsonSchema ?? {}), (value) => {
          fc.pre(z.safeEncode(entry.schema, value).success)
          // The same JSON value. Not always the same bytes: fast-json-stringify writes an
          // object's required members first, and members the schema does not name in the
          // value's order (ADR 039); the end-to-end test below compares bytes.
          expect(JSON.parse(entry.serialize(value)), where).toStrictEqual(JSON.parse(viaZod(value)))
        }),
        { numRuns: 40, seed: 39 },
      )
    }
  }, 60_000)

  it('answers the same bytes through both serializers for the same requests on real data', async () => {
    // Verified before its first authenticated request, so no cached session says otherwise.
    const email = `serialized-${crypto.randomUUID()}@example.com`
    const password = 'correct horse battery staple'
    const signUp = await validated.inject({
      method: 'POST',
      url: '/v1/auth/sign-up',
      payload: { email, password, name: 'Serena Serialized' },
    })
    expect(signUp.statusCode, signUp.body).toBe(201)
    const { token, user } = signUp.json() as { token: string; user: { id: string } }
    const userId = user.id
    await ownerQuery(
      services().database.url,
      'UPDATE users SET email_verified_at = now() WHERE id = $1',
      [userId],
    )
    const headers = { authorization: `Bearer ${token}` }
    const post = async (url: string, payload: object) => {
      const res = await validated.inject({ method: 'POST', url, headers, payload })
      expect(res.statusCode, `${url}: ${res.body}`).toBe(201)
      return res.json() as { id: string }
    }
    const orgId = (await post('/v1/orgs', { name: 'Serialized' })).id
    const projects = `/v1/orgs/${orgId}/projects`
    const project = await post(projects, {
      name: 'Quotes "and" \\ backslashes',
      description: 'Line one\nline two\ttab, émoji 😀, \u2028 separator',
    })
    await post(projects, { name: 'Archived', status: 'archived' })
    const tasks = `${projects}/${project.id}/tasks`
    await post(tasks, { title: 'Due', dueDate: '2030-02-28', assigneeId: userId, priority: 'high' })
    await post(tasks, { title: 'Undated' })
    await post(`/v1/orgs/${orgId}/invitations`, { email: 'invitee@example.com', role: 'member' })
    await post(`/v1/orgs/${orgId}/api-keys`, { name: 'CI', scopes: ['projects:read'] })

    const requests: InjectOptions[] = [
      { url: '/v1/auth/me', headers },
      { url: '/v1/auth/sessions', headers },
      { url: '/v1/orgs', headers },
      { url: `/v1/orgs/${orgId}`, headers },
      { url: `${projects}?limit=50`, headers },
      { url: `${projects}?status=archived&sort=name`, headers },
      { url: `${projects}?limit=1`, headers },
      { url: `${projects}/${project.id}`, headers },
      { url: tasks, headers },
      { url: `/v1/orgs/${orgId}/members`, headers },
      { url: `/v1/orgs/${orgId}/invitations`, headers },
      { url: `/v1/orgs/${orgId}/api-keys`, headers },
      { url: `/v1/orgs/${orgId}/webhook-endpoints`, headers },
      { url: `/v1/orgs/${orgId}/audit-log`, headers },
      { url: '/v1/auth/oauth/accounts', headers },
      { url: '/healthz' },
      { url: '/version' },
      // Errors: problem+json, from the error handler, the validator and the access plugin.
      { url: `${projects}/${crypto.randomUUID()}`, headers },
      { url: `${projects}?limit=0&status=gone`, headers },
      { url: `${projects}/not-a-uuid`, headers },
      { url: projects },
      { url: '/v1/no-such-route' },
      { method: 'POST', url: '/v1/orgs', headers, payload: { name: '', extra: 1 } },
      {
        method: 'POST',
        url: '/v1/auth/sign-in',
        payload: { email: 'x@example.com', password: 'wrong password' },
      },
    ]
    for (const request of requests) {
      const [viaCompiled, viaZod] = [
        await compiled.inject(request),
        await validated.inject(request),
      ]
      const label = `${request.method ?? 'GET'} ${request.url}`
      expect(viaCompiled.statusCode, label).toBe(viaZod.statusCode)
      expect(viaCompiled.statusCode, `${label}: ${viaZod.body}`).toBeLessThan(500)
      expect(viaCompiled.headers['content-type'], label).toBe(viaZod.headers['content-type'])
      expect(viaCompiled.body, label).toBe(viaZod.body)
    }

    // The union answer of sign-in (a session, or an MFA challenge): only the token differs.
    const signIn = async (server: FastifyInstance) => {
      const res = await server.inject({
        method: 'POST',
        url: '/v1/auth/sign-in',
        payload: { email, password },
      })
      expect(res.statusCode, res.body).toBe(200)
      return res.body.replace(/"token":"[^"]+"/, '"token":"…"')
    }
    expect(await signIn(compiled)).toBe(await signIn(validated))
  })

  it('answers problem details of the same shape through the compiled serializer', async () => {
    const res = await compiled.inject({
      url: '/v1/orgs?limit=500',
      headers: (await signUpOwner(validated)).headers,
    })
    expect(res.statusCode).toBe(400)
    expect(res.headers['content-type']).toBe('application/problem+json; charset=utf-8')
    expect(Object.keys(res.json())).toEqual(['type', 'title', 'status', 'detail', 'errors'])
    expect(res.json()).toEqual({
      type: 'urn:groundwork:problem:validation',
      title: 'Invalid request',
      status: 400,
      detail: 'The querystring is not valid.',
      errors: [{ field: 'querystring.limit', message: expect.any(String) }],
    })
  })

  it('validates answers in tests (and development): one that breaks its schema is a 500', async () => {
    const res = await validated.inject({ url: '/test/violates' })
    expect(res.statusCode).toBe(500)
    expect(res.headers['content-type']).toBe('application/problem+json; charset=utf-8')
    expect(res.json()).toMatchObject({ type: 'about:blank', status: 500 })
    // Production does not validate: it writes what the schema says the value is.
    const coerced = await compiled.inject({ url: '/test/violates' })
    expect([coerced.statusCode, coerced.body]).toEqual([200, '{"name":"42"}'])
  })

  it('compiles in production by default, validates elsewhere', async () => {
    const { database, redis } = services()
    const production = await buildServer(
      testEnv({
        NODE_ENV: 'production',
        DATABASE_URL: database.appUrl,
        REDIS_URL: redis.url,
        MFA_ENCRYPTION_KEY: Buffer.alloc(32, 9).toString('base64'),
        API_PUBLIC_URL: 'https://api.example.com',
        APP_URL: 'https://app.example.com',
        TRUST_PROXY: 'loopback',
        // Production serves metrics on a fixed port by default; this server needs none.
        METRICS_ENABLED: 'false',
      }),
    )
    try {
      addTestRoutes(production)
      await production.ready()
      expect((await production.inject({ url: '/test/violates' })).body).toBe('{"name":"42"}')
    } finally {
      await production.close()
    }
    expect((await validated.inject({ url: '/test/violates' })).statusCode).toBe(500)
  })

  it('never writes a field the schema does not declare, and a missing one is a 500, in both modes', async () => {
    for (const server of [compiled, validated]) {
      const leaks = await server.inject({ url: '/test/leaks' })
      expect([leaks.statusCode, leaks.body]).toEqual([200, '{"name":"Ada"}'])
      const incomplete = await server.inject({ url: '/test/incomplete' })
      expect(incomplete.statusCode).toBe(500)
      expect(incomplete.body).not.toContain('name')
    }
  })

  it('keeps zod for a schema it cannot compile faithfully, and says which at start-up', async () => {
    const trimmed = compiledSchemas.find((entry) => entry.url === '/test/trimmed')
    expect(trimmed?.fallback).toBe('properties.name: a check rewrites the value (trim, case)')
    expect(logs.lines()).toContainEqual(
      expect.objectContaining({
        level: 'warn',
        msg: 'response schema not compiled: zod serializes it',
        route: 'GET /test/trimmed',
        status: '200',
        reason: trimmed?.fallback,
      }),
    )
    for (const server of [compiled, validated])
      expect((await server.inject({ url: '/test/trimmed' })).body).toBe('{"name":"padded"}')
  })

  it('fails an answer in tests that production would write otherwise', async () => {
    const res = await validated.inject({ url: '/test/unknown-items' })
    expect(res.statusCode).toBe(500)
    expect(logs.text()).toContain(
      'GET /test/unknown-items 200: the compiled serializer would answer {\\"items\\":[1,undefined]} in production',
    )
    // What production would have sent: not even JSON.
    expect((await compiled.inject({ url: '/test/unknown-items' })).body).toBe(
      '{"items":[1,undefined]}',
    )
  })
})
