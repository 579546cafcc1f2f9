import { buildServer } from '@repo/api/build-server'
import { apiEnvSchema } from '@repo/api/env'
import { parseEnv } from '@repo/config'
import { useIsolatedServices } from '@repo/testing'
import type { FastifyInstance } from 'fastify'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createApiClient } from '../src/index.ts'

// The generated client against the real API over HTTP.
const services = useIsolatedServices()
let app: FastifyInstance
let baseUrl = ''

beforeAll(async () => {
  const { database, redis } = services()
  app = await buildServer(
    parseEnv(apiEnvSchema, {
      NODE_ENV: 'test',
      LOG_LEVEL: 'silent',
      DATABASE_URL: database.appUrl,
      REDIS_URL: redis.url,
      AUTH_RATE_LIMIT_PER_MINUTE: '1000',
      PRESSURE_MAX_EVENT_LOOP_DELAY_MS: '0',
      PRESSURE_MAX_EVENT_LOOP_UTILIZATION: '0',
    }),
  )
  baseUrl = await app.listen({ host: '127.0.0.1', port: 0 })
})
afterAll(() => app?.close())

describe('createApiClient', () => {
  it('signs up, creates an organization and reads it back, typed end to end', async () => {
    const anonymous = createApiClient({ baseUrl })
    const signUp = await anonymous.POST('/v1/auth/sign-up', {
      body: { email: 'client@example.com', password: 'correct horse battery staple', name: 'Cli' },
    })
    expect(signUp.response.status).toBe(201)
    const token = signUp.data?.token as string

    const api = createApiClient({ baseUrl, token, requestId: 'client-test-1' })
    const created = await api.POST('/v1/orgs', { body: { name: 'Typed Inc' } })
    expect(created.response.headers.get('x-request-id')).toBe('client-test-1')
    const orgId = created.data?.id as string
    const read = await api.GET('/v1/orgs/{orgId}', { params: { path: { orgId } } })
    expect(read.data).toMatchObject({ id: orgId, name: 'Typed Inc', role: 'owner' })
  })

  it("passes the end user's address, which the API believes from a trusted proxy (loopback here)", async () => {
    const anonymous = createApiClient({ baseUrl, clientAddress: '203.0.113.50' })
    const signUp = await anonymous.POST('/v1/auth/sign-up', {
      body: { email: 'behind@example.com', password: 'correct horse battery staple', name: 'Bo' },
    })
    const api = createApiClient({ baseUrl, token: signUp.data?.token as string })
    const sessions = await api.GET('/v1/auth/sessions')
    expect(sessions.data?.data.map((s) => s.ipAddress)).toEqual(['203.0.113.50'])
  })

  it('surfaces problem+json errors as typed error bodies', async () => {
    const api = createApiClient({ baseUrl })
    const res = await api.GET('/v1/auth/me')
    expect(res.response.status).toBe(401)
    expect(res.error).toMatchObject({ status: 401, type: 'urn:groundwork:problem:unauthenticated' })
  })
})
