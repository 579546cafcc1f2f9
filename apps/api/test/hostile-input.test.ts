import fc from 'fast-check'
import type { LightMyRequestResponse } from 'fastify'
import { describe, expect, it } from 'vitest'
import { signUpOwner, useApiServer } from './helpers.ts'

// Property: whatever arrives (wrong types, hostile strings, junk query strings, headers
// and bodies, forged ids), every route in the OpenAPI document answers below 500, and
// every error is problem+json without internals. Routes come from the document itself,
// so a new route is covered the moment it exists. Seeded from the clock, one seed for the
// whole run: every failure names it, and HOSTILE_SEED=<seed> replays the same inputs.
const { server, sql } = useApiServer()
const RUNS_PER_ROUTE = Number(process.env.HOSTILE_RUNS ?? 30)
const SEED = Number(process.env.HOSTILE_SEED ?? Date.now() % 2 ** 31)
if (!Number.isSafeInteger(SEED))
  throw new Error(`HOSTILE_SEED must be an integer, got "${process.env.HOSTILE_SEED}"`)
const replay = `replay with HOSTILE_SEED=${SEED} pnpm test`

interface Operation {
  parameters?: Array<{ name: string; in: 'path' | 'query' | 'header' }>
  requestBody?: {
    content?: Record<string, { schema?: { properties?: Record<string, unknown> } }>
  }
}

const hostile = fc.oneof(
  fc.constantFrom(
    "' OR '1'='1' --",
    '"; DROP TABLE users; --',
    '<script>alert(1)</script>',
    '\u0000',
    'nul\u0000inside',
    '../../etc/passwd',
    '%00',
    '${jndi:ldap://127.0.0.1/x}',
    '{{7*7}}',
    '__proto__',
    'constructor',
    '🦄'.repeat(50),
    '\ud800',
    '\u202e\u200b',
    ' ',
    '',
    'null',
    'true',
    '-1',
    '0',
    '1e309',
    'NaN',
    '00000000-0000-0000-0000-000000000000',
    '------------------------------------',
    'x'.repeat(10_000),
    '0000-01-01',
    '-200000-01-01T00:00:00Z',
    '+275760-09-13',
    'a\u0000b',
  ),
  fc.string({ maxLength: 300 }),
  fc.string({ unit: 'binary', maxLength: 100 }),
)
// Cursors are opaque base64url JSON; forge well-formed ones around hostile keys and ids.
const forgedCursor = fc
  .tuple(
    fc.constantFrom('createdAt', '-createdAt', 'name', '-name', 'title', 'dueDate', 'priority'),
    fc.oneof(hostile, fc.constant(null), fc.integer()),
    fc.oneof(fc.uuid(), hostile),
  )
  .map((parts) => Buffer.from(JSON.stringify(parts)).toString('base64url'))
const anyValue = fc.oneof(
  hostile,
  fc.integer(),
  fc.double(),
  fc.boolean(),
  fc.constant(null),
  fc.array(hostile, { maxLength: 5 }),
  fc.dictionary(hostile, hostile, { maxKeys: 5 }),
  fc.anything({ maxDepth: 3 }),
)
// What HTTP can carry in a header value: visible ASCII and Latin-1, spaces and tabs.
const headerValue = fc
  .oneof(hostile, fc.string({ maxLength: 200 }))
  .map((value) => value.replace(/[^\t\x20-\x7e\x80-\xff]/g, ''))

const encode = (value: string) => encodeURIComponent(value.toWellFormed())

describe('every route under hostile input', () => {
  it('answers below 500 with problem+json errors, and leaks no internals', async () => {
    const doc = (await server.inject({ url: '/openapi.json' })).json() as {
      paths: Record<string, Record<string, Operation>>
    }
    const operations = Object.entries(doc.paths).flatMap(([path, ops]) =>
      Object.entries(ops).map(([method, op]) => ({ path, method: method.toUpperCase(), op })),
    )
    expect(operations.length).toBeGreaterThan(30)
    const failures: string[] = []
    const seen = new Map<number, number>()

    for (const { path, method, op } of operations) {
      // A fresh owner per route: a route that signs out or deletes must not starve the rest.
      const owner = await signUpOwner(server, 'Hostile')
      const [project] = (await sql(
        `INSERT INTO projects (id, organization_id, name, updated_at) VALUES (gen_random_uuid(), $1, 'P', now()) RETURNING id`,
        [owner.orgId],
      )) as [{ id: string }]
      const [task] = (await sql(
        `INSERT INTO tasks (id, organization_id, project_id, title, updated_at) VALUES (gen_random_uuid(), $1, $2, 'T', now()) RETURNING id`,
        [owner.orgId, project.id],
      )) as [{ id: string }]
      const known: Record<string, string> = {
        orgId: owner.orgId,
        projectId: project.id,
        taskId: task.id,
        userId: owner.userId,
      }
      const params = op.parameters ?? []
      const pathParam = (name: string) =>
        fc.oneof(
          { weight: 3, arbitrary: fc.constant(known[name] ?? crypto.randomUUID()) },
          { weight: 1, arbitrary: fc.uuid() },
          { weight: 2, arbitrary: hostile },
        )
      const pathArb = fc.record(
        Object.fromEntries(
          params.filter((p) => p.in === 'path').map((p) => [p.name, pathParam(p.name)]),
        ),
      )
      const queryNames = params.filter((p) => p.in === 'query').map((p) => p.name)
      const queryArb = fc.array(
        fc.tuple(
          queryNames.length ? fc.oneof(fc.constantFrom(...queryNames), hostile) : hostile,
          fc.oneof(hostile, forgedCursor, fc.integer().map(String), fc.constant('')),
        ),
        { maxLength: 6 },
      )
      const bodyFields = Object.keys(
        op.requestBody?.content?.['application/json']?.schema?.properties ?? {},
      )
      const bodyArb = fc.oneof(
        {
          weight: 3,
          arbitrary: fc.record(Object.fromEntries(bodyFields.map((f) => [f, anyValue])), {
            requiredKeys: [],
          }),
        },
        { weight: 1, arbitrary: fc.dictionary(hostile, anyValue, { maxKeys: 4 }) },
        { weight: 1, arbitrary: anyValue },
        // Not JSON at all, under a JSON content type.
        { weight: 1, arbitrary: hostile.map((raw) => ({ raw })) },
      )
      const headersArb = fc.record(
        {
          authorization: fc.oneof(
            { weight: 4, arbitrary: fc.constant(owner.headers.authorization) },
            { weight: 1, arbitrary: headerValue.map((v) => `Bearer ${v}`) },
            { weight: 1, arbitrary: headerValue },
          ),
          'if-match': headerValue,
          'idempotency-key': headerValue,
          'content-type': fc.constantFrom(
            'application/json',
            'application/json',
            'application/json',
            'text/plain',
            'application/x-www-form-urlencoded',
            'multipart/form-data; boundary=x',
            'application/json; charset=latin1',
          ),
          'x-forwarded-for': headerValue,
          accept: headerValue,
        },
        { requiredKeys: ['authorization'] },
      )

      await fc.assert(
        fc.asyncProperty(
          pathArb,
          queryArb,
          bodyArb,
          headersArb,
          async (values, query, body, headers) => {
            const url =
              path.replace(/\{(\w+)\}/g, (_, name: string) => encode(String(values[name] ?? ''))) +
              (query.length
                ? `?${query.map(([k, v]) => `${encode(k)}=${encode(v)}`).join('&')}`
                : '')
            const hasBody = method !== 'GET' && method !== 'DELETE'
            const payload =
              body && typeof body === 'object' && 'raw' in body && Object.keys(body).length === 1
                ? String(body.raw)
                : JSON.stringify(body ?? null)
            let res: LightMyRequestResponse
            try {
              res = await server.inject({
                method: method as 'GET',
                url,
                headers: headers as Record<string, string>,
                ...(hasBody ? { payload } : {}),
              })
            } catch (error) {
              // light-my-request refuses what no HTTP client could send: not our answer.
              if (error instanceof TypeError && /header|URI/i.test(error.message)) return
              throw error
            }
            seen.set(res.statusCode, (seen.get(res.statusCode) ?? 0) + 1)
            const label = `${method} ${url.slice(0, 200)} → ${res.statusCode}`
            if (res.statusCode >= 500) failures.push(`${label}: ${res.body.slice(0, 300)}`)
            if (res.statusCode >= 400) {
              expect(res.headers['content-type'], label).toContain('application/problem+json')
              const problem = res.json()
              expect(problem.status, label).toBe(res.statusCode)
              expect(typeof problem.title, label).toBe('string')
            }
            expect(res.body, label).not.toMatch(
              /node_modules|\.ts:\d+|at async |PrismaClient|SELECT /,
            )
          },
        ),
        { numRuns: RUNS_PER_ROUTE, seed: SEED },
      )
    }
    expect(failures, replay).toEqual([])
    // The inputs reach past the front door: some succeed, most are refused by validation.
    const count = (low: number, high: number) =>
      [...seen].filter(([code]) => code >= low && code < high).reduce((n, [, c]) => n + c, 0)
    const total = count(100, 600)
    const spread = `${JSON.stringify([...seen])}; ${replay}`
    expect(count(200, 300), spread).toBeGreaterThan(total * 0.02)
    expect(seen.get(400) ?? 0, spread).toBeGreaterThan(total * 0.15)
    expect(seen.get(401) ?? 0, spread).toBeLessThan(total * 0.4)
    // About 2,000 requests, some through Argon2id: seconds alone, more beside the process
    // tests on a busy machine. The guarantee is the answers, not the time.
  }, 120_000)
})
