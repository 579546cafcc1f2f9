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
    for (const [path, operations] of Object.entries<
      Record<string, { responses?: object; tags?: string[] }>
    >(doc.paths)) {
      for (const [method, operation] of Object.entries(operations)) {
        expect(operation.responses, `${method} ${path} declares responses`).toBeDefined()
        expect(operation.tags?.length, `${method} ${path} has a tag`).toBeGreaterThan(0)
      }
    }
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
