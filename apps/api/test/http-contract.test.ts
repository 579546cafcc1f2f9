import { describe, expect, it } from 'vitest'
import { useApiServer } from './helpers.ts'

const { server } = useApiServer()

describe('OpenAPI document', () => {
  it('is OpenAPI 3.1 and describes every route with a response schema', async () => {
    const res = await server.inject({ url: '/openapi.json' })
    expect(res.statusCode).toBe(200)
    const doc = res.json()
    expect(doc.openapi).toBe('3.1.0')
    expect(Object.keys(doc.paths)).toEqual(
      expect.arrayContaining([
        '/healthz',
        '/readyz',
        '/version',
        '/v1/auth/sign-up',
        '/v1/auth/sign-in',
        '/v1/orgs',
        '/v1/orgs/{orgId}',
      ]),
    )
    type Response = { content?: Record<string, { schema?: object }> }
    const accessOf = new Map(
      server.accessRules.map((rule) => [
        `${rule.method.toLowerCase()} ${rule.url.replace(/:(\w+)/g, '{$1}').replace(/\/$/, '')}`,
        rule.access,
      ]),
    )
    let checked = 0
    for (const [path, operations] of Object.entries<
      Record<string, { responses?: Record<string, Response>; tags?: string[] }>
    >(doc.paths)) {
      for (const [method, operation] of Object.entries(operations)) {
        const label = `${method} ${path}`
        const responses = operation.responses ?? {}
        expect(operation.tags?.length, `${label} has a tag`).toBeGreaterThan(0)
        // Each success it declares has a schema for its body (202 and 204 may have none).
        const successes = Object.keys(responses).filter((status) => /^2\d\d$/.test(status))
        expect(successes.length, `${label} declares a success`).toBeGreaterThan(0)
        for (const status of successes.filter((s) => s !== '204' && s !== '202'))
          expect(
            Object.values(responses[status]?.content ?? {})[0]?.schema,
            `${label} ${status} has a body schema`,
          ).toBeDefined()
        // Every failure its access rule can cause is declared, as a problem with a schema.
        const access = accessOf.get(`${method} ${path.replace(/\/$/, '')}`)
        expect(access, `${label} has an access rule`).toBeDefined()
        const failures = [
          ...(access === 'public' ? [] : ['401']),
          ...(typeof access === 'object' ? ['403', '404'] : []),
        ]
        for (const status of failures)
          expect(
            Object.values(responses[status]?.content ?? {})[0]?.schema,
            `${label} declares ${status}`,
          ).toBeDefined()
        checked++
      }
    }
    expect(checked).toBeGreaterThan(40)
    expect(doc.paths['/readyz'].get.responses).toHaveProperty('503')
  })
})

describe('errors are problem+json', () => {
  it('answers an unknown route with 404 problem details', async () => {
    const res = await server.inject({ url: '/v1/nothing-here?x=1' })
    expect(res.statusCode).toBe(404)
    expect(res.headers['content-type']).toMatch(/^application\/problem\+json/)
    expect(res.json()).toEqual({
      type: 'about:blank',
      title: 'Not Found',
      status: 404,
      detail: 'No route for GET /v1/nothing-here.',
    })
  })

  it('bounds what it echoes of a hostile URL', async () => {
    const res = await server.inject({ url: `/${'a'.repeat(5_000)}<script>` })
    expect(res.statusCode).toBe(404)
    expect(res.json().detail.length).toBeLessThan(260)
  })
})

describe('request ids', () => {
  it('echoes a well-formed caller request id', async () => {
    const res = await server.inject({ url: '/healthz', headers: { 'x-request-id': 'req-123.abc' } })
    expect(res.headers['x-request-id']).toBe('req-123.abc')
  })

  it('replaces a hostile request id with a generated one', async () => {
    const res = await server.inject({
      url: '/healthz',
      headers: { 'x-request-id': 'x\r\nSet-Cookie: a=b' },
    })
    expect(res.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/)
    expect(res.headers['set-cookie']).toBeUndefined()
  })
})

describe('interactive API reference', () => {
  it('is served at /docs outside production, from the same OpenAPI document', async () => {
    const res = await server.inject({ url: '/docs/' })
    expect(res.statusCode).toBe(200)
    expect(res.headers['content-type']).toMatch(/text\/html/)
    expect(res.body).toContain('/openapi.json')
    expect(res.headers['content-security-policy']).toContain("script-src 'self' 'unsafe-inline'")
    // Elsewhere the strict default CSP stays.
    expect(
      (await server.inject({ url: '/healthz' })).headers['content-security-policy'],
    ).not.toContain("script-src 'self' 'unsafe-inline'")
    const doc = (await server.inject({ url: '/openapi.json' })).json()
    expect(Object.keys(doc.paths).some((path) => path.startsWith('/docs'))).toBe(false)
  })
})
