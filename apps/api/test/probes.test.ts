import { startGatedPort, useIsolatedServices, waitUntil } from '@repo/testing'
import type { FastifyInstance } from 'fastify'
import pg from 'pg'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildTestServer, signUpOwner } from './helpers.ts'

const services = useIsolatedServices()
let server: FastifyInstance

beforeAll(async () => {
  const { database, redis } = services()
  server = await buildTestServer({
    DATABASE_URL: database.appUrl,
    REDIS_URL: redis.url,
    APP_VERSION: '1.2.3',
    GIT_COMMIT: 'abc1234',
  })
})
afterAll(() => server?.close())

describe('probes', () => {
  it('GET /healthz answers without touching dependencies', async () => {
    const res = await server.inject({ method: 'GET', url: '/healthz' })
    expect(res.statusCode).toBe(200)
    expect(res.json()).toEqual({ status: 'ok' })
  })

  it('GET /readyz is 200 when Postgres and Redis answer', async () => {
    const res = await server.inject({ method: 'GET', url: '/readyz' })
    expect(res.statusCode).toBe(200)
    expect(res.json()).toEqual({ status: 'ready', checks: { postgres: 'up', redis: 'up' } })
  })

  it('GET /version reports the build', async () => {
    const res = await server.inject({ method: 'GET', url: '/version' })
    expect(res.json()).toEqual({ version: '1.2.3', commit: 'abc1234', environment: 'test' })
  })

  it('GET /readyz is 503 while draining for shutdown', async () => {
    server.draining = true
    try {
      const res = await server.inject({ method: 'GET', url: '/readyz' })
      expect(res.statusCode).toBe(503)
      expect(res.json()).toMatchObject({
        status: 503,
        draining: true,
        detail: 'The server is shutting down.',
      })
    } finally {
      server.draining = false
    }
  })
})

describe('readiness tells the truth about dependencies', () => {
  it('names Redis when Redis stops, and recovers when it is back', async () => {
    const { database, redis } = services()
    // The API's Redis is a port this test holds: open onto this file's Redis, then shut
    // (every connection reset), then open again. Nobody else can take it meanwhile.
    const redisUrl = new URL(redis.url)
    const redisPort = await startGatedPort({ target: Number(redisUrl.port) })
    redisPort.open()
    redisUrl.port = String(redisPort.port)
    const app = await buildTestServer({
      DATABASE_URL: database.appUrl,
      REDIS_URL: redisUrl.toString(),
      READINESS_TIMEOUT_MS: '500',
      READINESS_CACHE_MS: '500',
    })
    try {
      expect((await app.inject({ url: '/readyz' })).statusCode).toBe(200)

      redisPort.shut()
      // An answer is reused for READINESS_CACHE_MS at most: the first one after that, from a
      // check made with Redis down, tells the truth (within the check's timeout).
      const shutAt = Date.now()
      await waitUntil(() => Date.now() - shutAt > 500, { what: 'the reuse period to pass' })
      const res = await app.inject({ url: '/readyz' })
      expect(res.statusCode).toBe(503)
      expect(res.headers['content-type']).toMatch(/^application\/problem\+json/)
      expect(res.headers['retry-after']).toBe('5')
      expect(res.json()).toMatchObject({
        status: 503,
        title: 'Not ready',
        detail: 'Unavailable: redis.',
        checks: { postgres: 'up', redis: 'down' },
      })

      // Redis comes back on the same address: the client reconnects and readiness follows.
      redisPort.open()
      await expect
        .poll(async () => (await app.inject({ url: '/readyz' })).statusCode, {
          timeout: 10_000,
          interval: 200,
        })
        .toBe(200)
    } finally {
      await app.close()
      await redisPort.close()
    }
  })

  it('names Postgres when Postgres cannot be reached, within the readiness timeout', async () => {
    const { redis } = services()
    // Port 9 (discard) on loopback: nothing listens, connections are refused.
    const app = await buildTestServer({
      DATABASE_URL: 'postgresql://nobody:nothing@127.0.0.1:9/none',
      REDIS_URL: redis.url,
      READINESS_TIMEOUT_MS: '500',
      DATABASE_CONNECT_TIMEOUT_MS: '500',
    })
    try {
      const res = await app.inject({ url: '/readyz' })
      expect(res.statusCode).toBe(503)
      expect(res.json()).toMatchObject({
        detail: 'Unavailable: postgres.',
        checks: { postgres: 'down', redis: 'up' },
      })
      // Nothing about the failure's internals leaks into the answer.
      expect(res.body).not.toMatch(/ECONNREFUSED|stack|at /)
    } finally {
      await app.close()
    }
  })
})

describe('readiness costs the database a bounded amount, whatever the request rate', () => {
  it('300 concurrent /readyz calls open one Postgres connection, and the API keeps serving', async () => {
    const { database, redis } = services()
    const app = await buildTestServer({
      DATABASE_URL: database.appUrl,
      REDIS_URL: redis.url,
      // No reuse: every call would check, so only the one-check-at-a-time rule bounds it.
      READINESS_CACHE_MS: '0',
    })
    const owner = new pg.Client({ connectionString: database.url })
    await owner.connect()
    const connections = async (applicationName: string) =>
      Number(
        (
          await owner.query(
            'SELECT count(*) AS n FROM pg_stat_activity WHERE datname = current_database() AND application_name = $1',
            [applicationName],
          )
        ).rows[0].n,
      )
    try {
      const { headers, orgId } = await signUpOwner(app)
      // Other servers of this file keep their own probe connection to this database.
      const before = await connections('readiness-probe')
      let most = 0
      let sampling = true
      const sampler = (async () => {
        while (sampling) {
          most = Math.max(most, await connections('readiness-probe'))
          await new Promise((done) => setTimeout(done, 5))
        }
      })()
      const probes = Array.from({ length: 300 }, () => app.inject({ url: '/readyz' }))
      // A real request, in the middle of the flood.
      const served = await app.inject({ url: `/v1/orgs/${orgId}`, headers })
      const answers = await Promise.all(probes)
      sampling = false
      await sampler

      expect(answers.map((res) => res.statusCode)).toEqual(answers.map(() => 200))
      expect(served.statusCode).toBe(200)
      expect(most - before).toBeLessThanOrEqual(1)
      // And it stays one connection, reused, not one per call.
      await Promise.all(Array.from({ length: 50 }, () => app.inject({ url: '/readyz' })))
      expect(await connections('readiness-probe')).toBe(before + 1)
    } finally {
      await owner.end()
      await app.close()
    }
  })
})
