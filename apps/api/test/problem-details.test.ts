import { createServer } from 'node:net'
import { useIsolatedServices } from '@repo/testing'
import { Ajv2020 } from 'ajv/dist/2020.js'
import addFormats from 'ajv-formats'
import type { FastifyInstance, InjectOptions, LightMyRequestResponse } from 'fastify'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { rfc9457ProblemSchema } from './fixtures/rfc9457-problem-schema.ts'
import { addMember, buildTestServer, ownerQuery, signUpOwner } from './helpers.ts'

// Error answers checked against RFC 9457 itself: its Appendix A JSON Schema (copied
// verbatim, read by ajv, an independent validator), its published examples and the rules
// of its text, and RFC 9110's status phrases. Never against our own problem schema.
const services = useIsolatedServices()
let app: FastifyInstance
let limited: FastifyInstance
const password = 'correct horse battery staple'

/** RFC 9110 section 15 (and RFC 6585 for 428 and 429): the phrase of each status code. */
const RFC_9110_PHRASES: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  409: 'Conflict',
  412: 'Precondition Failed',
  413: 'Content Too Large',
  414: 'URI Too Long',
  415: 'Unsupported Media Type',
  422: 'Unprocessable Content',
  428: 'Precondition Required',
  429: 'Too Many Requests',
  503: 'Service Unavailable',
}

/** A port nothing listens on: the OS hands one out, and it is closed again at once. */
async function closedPort() {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as { port: number }
  await new Promise((resolve) => server.close(resolve))
  return port
}

beforeAll(async () => {
  const { database, redis } = services()
  app = await buildTestServer({ DATABASE_URL: database.appUrl, REDIS_URL: redis.url })
  limited = await buildTestServer({
    DATABASE_URL: database.appUrl,
    REDIS_URL: redis.url,
    RATE_LIMIT_IP_PER_MINUTE: '5',
  })
})
afterAll(async () => {
  await Promise.all([app?.close(), limited?.close()])
})

describe('error answers (RFC 9457 problem details)', () => {
  const ajv = new Ajv2020({ strict: true, allErrors: true })
  addFormats(ajv)
  const validate = ajv.compile(rfc9457ProblemSchema)
  /** Every error answer the API gave, with the status the case expected. */
  const answers: Array<{ name: string; expected: number; res: LightMyRequestResponse }> = []

  beforeAll(async () => {
    const owner = await signUpOwner(app)
    const sql = (query: string, values: unknown[] = []) =>
      ownerQuery(services().database.url, query, values)
    const member = await addMember(app, sql, owner.orgId)
    const email = `taken-${crypto.randomUUID()}@example.com`
    await app.inject({
      method: 'POST',
      url: '/v1/auth/sign-up',
      payload: { email, password, name: 'Taken' },
    })
    const project = await app.inject({
      method: 'POST',
      url: `/v1/orgs/${owner.orgId}/projects`,
      headers: owner.headers,
      payload: { name: 'Standards' },
    })
    const projectUrl = `/v1/orgs/${owner.orgId}/projects/${project.json().id}`
    const key = crypto.randomUUID()
    await app.inject({
      method: 'POST',
      url: '/v1/orgs',
      headers: { ...owner.headers, 'idempotency-key': key },
      payload: { name: 'First' },
    })
    const down = await buildTestServer({
      DATABASE_URL: `postgresql://nobody:nothing@127.0.0.1:${await closedPort()}/none`,
      REDIS_URL: services().redis.url,
      DATABASE_CONNECT_TIMEOUT_MS: '500',
    })
    const cases: Array<[string, number, FastifyInstance, InjectOptions]> = [
      [
        'invalid body',
        400,
        app,
        { method: 'POST', url: '/v1/orgs', headers: owner.headers, payload: {} },
      ],
      [
        'malformed JSON',
        400,
        app,
        {
          method: 'POST',
          url: '/v1/orgs',
          headers: { ...owner.headers, 'content-type': 'application/json' },
          payload: '{"name":',
        },
      ],
      ['malformed URL', 400, app, { url: '/v1/orgs/%E0%A4%A' }],
      [
        'wrong current password',
        400,
        app,
        {
          method: 'POST',
          url: '/v1/auth/password',
          headers: owner.headers,
          payload: {
            currentPassword: 'not my password at all',
            newPassword: 'another long passphrase',
          },
        },
      ],
      ['no credentials', 401, app, { url: '/v1/auth/me' }],
      [
        'wrong password',
        401,
        app,
        {
          method: 'POST',
          url: '/v1/auth/sign-in',
          payload: { email, password: 'wrong wrong wrong' },
        },
      ],
      [
        'role too low',
        403,
        app,
        {
          method: 'POST',
          url: `/v1/orgs/${owner.orgId}/api-keys`,
          headers: member.headers,
          payload: { name: 'k', scopes: ['projects:read'] },
        },
      ],
      [
        'email not verified',
        403,
        app,
        {
          method: 'POST',
          url: `/v1/orgs/${owner.orgId}/api-keys`,
          headers: owner.headers,
          payload: { name: 'k', scopes: ['projects:read'] },
        },
      ],
      ['no such route', 404, app, { url: '/v1/no-such-route' }],
      [
        "another organization's resource",
        404,
        app,
        { url: `/v1/orgs/${crypto.randomUUID()}/projects`, headers: owner.headers },
      ],
      [
        'email taken',
        409,
        app,
        { method: 'POST', url: '/v1/auth/sign-up', payload: { email, password, name: 'Again' } },
      ],
      [
        'stale If-Match',
        412,
        app,
        {
          method: 'PATCH',
          url: projectUrl,
          headers: { ...owner.headers, 'if-match': '"99"' },
          payload: { name: 'Renamed' },
        },
      ],
      [
        'body too large',
        413,
        app,
        {
          method: 'POST',
          url: '/v1/orgs',
          headers: { ...owner.headers, 'content-type': 'application/json' },
          payload: JSON.stringify({ name: 'x'.repeat(1_100_000) }),
        },
      ],
      ['URL segment too long', 414, app, { url: `/v1/orgs/${'a'.repeat(201)}/projects` }],
      [
        'unsupported content type',
        415,
        app,
        {
          method: 'POST',
          url: '/v1/orgs',
          headers: { ...owner.headers, 'content-type': 'application/xml' },
          payload: '<name>Acme</name>',
        },
      ],
      [
        'Idempotency-Key reused with another body',
        422,
        app,
        {
          method: 'POST',
          url: '/v1/orgs',
          headers: { ...owner.headers, 'idempotency-key': key },
          payload: { name: 'Second' },
        },
      ],
      [
        'no If-Match',
        428,
        app,
        { method: 'PATCH', url: projectUrl, headers: owner.headers, payload: { name: 'Renamed' } },
      ],
      ...Array.from(
        { length: 6 },
        (_, i) =>
          [
            `request ${i + 1} of 6 against a limit of 5`,
            i < 5 ? 401 : 429,
            limited,
            { url: '/v1/auth/me', remoteAddress: '10.9.0.1' },
          ] as [string, number, FastifyInstance, InjectOptions],
      ),
      [
        'Postgres down',
        503,
        down,
        { method: 'POST', url: '/v1/auth/sign-in', payload: { email, password } },
      ],
    ]
    try {
      for (const [name, expected, server, request] of cases)
        answers.push({ name, expected, res: await server.inject(request) })
    } finally {
      await down.close()
    }
  })

  it("the RFC's own examples pass the Appendix A schema as copied, and a malformed problem does not", () => {
    // Section 3's examples: the validator and the copied schema are fit to judge our answers.
    expect(
      validate({
        type: 'https://example.com/probs/out-of-credit',
        title: 'You do not have enough credit.',
        detail: 'Your current balance is 30, but that costs 50.',
        instance: '/account/12345/msgs/abc',
        balance: 30,
        accounts: ['/account/12345', '/account/67890'],
      }),
    ).toBe(true)
    expect(
      validate({
        type: 'https://example.net/validation-error',
        title: 'Your request is not valid.',
        errors: [{ detail: 'must be a positive integer', pointer: '#/age' }],
      }),
    ).toBe(true)
    expect(validate({ type: 'not a URI reference', status: '403' })).toBe(false)
    expect(validate({ status: 700 })).toBe(false)
  })

  it('are application/problem+json that the Appendix A schema accepts, for every kind of error, "status" being the HTTP status', () => {
    const wrong: string[] = []
    for (const { name, expected, res } of answers) {
      if (res.statusCode !== expected) {
        wrong.push(`${name}: answered ${res.statusCode}, not ${expected}`)
        continue
      }
      const [mediaType] = String(res.headers['content-type']).split(';')
      if (mediaType?.trim().toLowerCase() !== 'application/problem+json')
        wrong.push(`${name}: content-type ${res.headers['content-type']}`)
      const body = res.json()
      if (!validate(body)) wrong.push(`${name}: ${ajv.errorsText(validate.errors)}`)
      // "Generators MUST use the same status code in the actual HTTP response" (3.1.2).
      if (body.status !== res.statusCode) wrong.push(`${name}: status ${body.status} in the body`)
      // Extension member names start with a letter, then letters, digits and "_", three
      // characters or more (section 4), so they serialize in formats other than JSON.
      for (const member of Object.keys(body))
        if (!/^[A-Za-z][A-Za-z0-9_]{2,}$/.test(member)) wrong.push(`${name}: member ${member}`)
    }
    expect(wrong).toEqual([])
    expect(new Set(answers.map((a) => a.expected)).size).toBeGreaterThanOrEqual(13)
  })

  it('title an about:blank problem with the phrase RFC 9110 gives its status', () => {
    // "When 'about:blank' is used, the title SHOULD be the same as the recommended HTTP
    // status phrase for that code" (4.2.1).
    const blank = answers
      .map(({ res }) => ({ status: res.statusCode, body: res.json() }))
      .filter(({ body }) => (body.type ?? 'about:blank') === 'about:blank')
    expect(blank.map(({ status }) => status).sort()).toEqual([400, 404, 413, 415])
    for (const { status, body } of blank) expect(body.title).toBe(RFC_9110_PHRASES[status])
  })

  it('keep one status and one title per problem type', () => {
    // A type is documented with "the HTTP status code for it to be used with" (section 4),
    // and its title "SHOULD NOT change from occurrence to occurrence" (3.1.3).
    const seen = new Map<string, Set<string>>()
    for (const { res } of answers) {
      const { type, status, title } = res.json()
      if ((type ?? 'about:blank') === 'about:blank') continue
      seen.set(type, (seen.get(type) ?? new Set()).add(`${status} ${title}`))
    }
    const mixed = [...seen]
      .filter(([, uses]) => uses.size > 1)
      .map(([type, uses]) => [type, [...uses]])
    expect(mixed).toEqual([])
  })
})
