import { useIsolatedServices } from '@repo/testing'
import { describe, expect, it } from 'vitest'
import { buildTestServer } from './helpers.ts'

const services = useIsolatedServices()

describe('load shedding', () => {
  it('answers 503 with Retry-After while the event loop lags, keeps liveness, and recovers', async () => {
    const { database, redis } = services()
    const app = await buildTestServer({
      DATABASE_URL: database.appUrl,
      REDIS_URL: redis.url,
      PRESSURE_MAX_EVENT_LOOP_DELAY_MS: '50',
      PRESSURE_SAMPLE_INTERVAL_MS: '100',
    })
    try {
      // Start-up itself (loading the query compiler) can lag the loop: wait until it settles.
      await expect
        .poll(async () => (await app.inject({ url: '/v1/auth/me' })).statusCode, {
          timeout: 5_000,
          interval: 50,
        })
        .toBe(401)
      // Hog the event loop, as a CPU-bound burst of requests would; on a busy machine the
      // sample can land late, so try a few times.
      let shed = await app.inject({ url: '/healthz' })
      for (let attempt = 0; attempt < 5 && shed.statusCode !== 503; attempt++) {
        const until = Date.now() + 300
        while (Date.now() < until) {}
        // The next pressure sample lands right after the loop frees; ask before the one after.
        await new Promise((resolve) => setTimeout(resolve, 30))
        shed = await app.inject({ url: '/v1/auth/me' })
      }
      expect(shed.statusCode).toBe(503)
      expect(shed.headers['retry-after']).toBe('5')
      expect(shed.json()).toMatchObject({ type: 'urn:groundwork:problem:overloaded', status: 503 })
      expect((await app.inject({ url: '/healthz' })).statusCode).toBe(200)
      // Once the loop is idle again, requests are served.
      await expect
        .poll(async () => (await app.inject({ url: '/v1/auth/me' })).statusCode, {
          timeout: 5_000,
          interval: 50,
        })
        .toBe(401)
    } finally {
      await app.close()
    }
  })
})
