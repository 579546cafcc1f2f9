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
      // Hog the event loop, as a CPU-bound burst of requests would. under-pressure samples
      // the mean loop delay (10 ms resolution) each interval, so one stall must outweigh the
      // normal ticks of its interval: 800 ms does. The flag holds for one interval, which
      // may be the one after the stall, so look for the 503 for a little while. On a busy
      // machine the sampling timer itself can slip past that interval: stall again, until a
      // deadline, rather than a fixed number of times.
      let shed = await app.inject({ url: '/healthz' })
      const deadline = Date.now() + 15_000
      while (shed.statusCode !== 503 && Date.now() < deadline) {
        const until = Date.now() + 800
        while (Date.now() < until) {}
        for (let look = 0; look < 30 && shed.statusCode !== 503; look++) {
          shed = await app.inject({ url: '/v1/auth/me' })
          await new Promise((resolve) => setTimeout(resolve, 10))
        }
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
