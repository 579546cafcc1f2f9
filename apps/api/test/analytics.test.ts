import { startTelemetrySink, type TelemetrySink, useIsolatedServices } from '@repo/testing'
import type { FastifyInstance } from 'fastify'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildTestServer } from './helpers.ts'

// PostHog for real: the API's analytics client delivers to a loopback sink.
const services = useIsolatedServices()
let sink: TelemetrySink
let server: FastifyInstance | undefined

beforeAll(async () => {
  sink = await startTelemetrySink()
})
afterAll(async () => {
  await server?.close()
  await sink?.close()
})

describe('analytics', () => {
  it('is inactive without POSTHOG_KEY', async () => {
    const { database, redis } = services()
    // A sink of its own: another test's client may still be delivering to the shared one.
    const own = await startTelemetrySink()
    try {
      const app = await buildTestServer({
        DATABASE_URL: database.appUrl,
        REDIS_URL: redis.url,
        POSTHOG_HOST: own.posthogHost,
      })
      expect(app.analytics.active).toBe(false)
      app.analytics.capture({ distinctId: 'user_1', event: 'never_sent' })
      await app.close()
      expect(own.requests).toEqual([])
    } finally {
      await own.close()
    }
  })

  it('delivers captured events with their organization group, flushed on shutdown', async () => {
    const { database, redis } = services()
    server = await buildTestServer({
      DATABASE_URL: database.appUrl,
      REDIS_URL: redis.url,
      POSTHOG_KEY: 'phc_test_key',
      POSTHOG_HOST: sink.posthogHost,
    })
    expect(server.analytics.active).toBe(true)
    server.analytics.capture({
      distinctId: 'user_1',
      event: 'project_created',
      organizationId: 'org_9',
      properties: { plan: 'pro' },
    })
    await server.close()
    server = undefined
    const delivery = await sink.waitFor((req) => req.body.includes('project_created'))
    const body = JSON.parse(delivery.body)
    expect(body.api_key).toBe('phc_test_key')
    expect(body.batch[0]).toMatchObject({
      event: 'project_created',
      distinct_id: 'user_1',
      properties: expect.objectContaining({ plan: 'pro', $groups: { organization: 'org_9' } }),
    })
  })
})
