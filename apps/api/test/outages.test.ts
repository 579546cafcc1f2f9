import { startGatedPort, useIsolatedServices } from '@repo/testing'
import pg from 'pg'
import { describe, expect, it } from 'vitest'
import { buildTestServer, signUpOwner } from './helpers.ts'

// A dependency that is down is the service's problem, not the caller's: 503 with
// Retry-After and a problem body, never a 500 or a stack trace.
const services = useIsolatedServices()
const password = 'correct horse battery staple'

describe('when Postgres is down', () => {
  it('auth routes answer 503 with Retry-After', async () => {
    const { redis } = services()
    const app = await buildTestServer({
      DATABASE_URL: 'postgresql://nobody:nothing@127.0.0.1:9/none',
      REDIS_URL: redis.url,
      DATABASE_CONNECT_TIMEOUT_MS: '500',
    })
    try {
      for (const [url, payload] of [
        ['/v1/auth/sign-up', { email: 'down@example.com', password, name: 'D' }],
        ['/v1/auth/sign-in', { email: 'down@example.com', password }],
      ] as const) {
        const res = await app.inject({ method: 'POST', url, payload })
        expect(res.statusCode, url).toBe(503)
        expect(res.headers['retry-after']).toBe('5')
        expect(res.headers['content-type']).toMatch(/^application\/problem\+json/)
        expect(res.body).not.toMatch(/ECONNREFUSED|127\.0\.0\.1:9|at /)
      }
      const me = await app.inject({
        url: '/v1/auth/me',
        headers: { authorization: `Bearer ${'A'.repeat(43)}` },
      })
      expect(me.statusCode).toBe(503)
    } finally {
      await app.close()
    }
  })
})

describe('when Redis is down', () => {
  it('sign-up, sign-in and invitations still work, emails wait in the outbox, nothing answers 500', async () => {
    // The API's Redis is a port this test holds, open onto this file's Redis and then shut
    // (every connection reset): a stopped server's port could be taken by another process.
    const redisUrl = new URL(services().redis.url)
    const redisPort = await startGatedPort({ target: Number(redisUrl.port) })
    redisPort.open()
    redisUrl.port = String(redisPort.port)
    const app = await buildTestServer({
      DATABASE_URL: services().database.appUrl,
      REDIS_URL: redisUrl.toString(),
      READINESS_TIMEOUT_MS: '300',
    })
    try {
      redisPort.shut()
      const up = await app.inject({
        method: 'POST',
        url: '/v1/auth/sign-up',
        payload: { email: 'redis-down@example.com', password, name: 'R' },
      })
      expect(up.statusCode).toBe(201)
      const wrong = await app.inject({
        method: 'POST',
        url: '/v1/auth/sign-in',
        payload: { email: 'redis-down@example.com', password: 'wrong wrong wrong' },
      })
      expect(wrong.statusCode).toBe(401)
      const ok = await app.inject({
        method: 'POST',
        url: '/v1/auth/sign-in',
        payload: { email: 'redis-down@example.com', password },
      })
      expect(ok.statusCode).toBe(200)
      const reset = await app.inject({
        method: 'POST',
        url: '/v1/auth/password-reset',
        payload: { email: 'redis-down@example.com' },
      })
      expect(reset.statusCode).toBe(202)
      // An invitation is created, its email waiting in the outbox for Redis to return.
      const token = ok.json().token as string
      const { Client } = await import('pg')
      const client = new Client({ connectionString: services().database.url })
      await client.connect()
      await client.query(
        "UPDATE users SET email_verified_at = now() WHERE email = 'redis-down@example.com'",
      )
      const org = await app.inject({
        method: 'POST',
        url: '/v1/orgs',
        headers: { authorization: `Bearer ${token}` },
        payload: { name: 'Down' },
      })
      const invite = await app.inject({
        method: 'POST',
        url: `/v1/orgs/${org.json().id}/invitations`,
        headers: { authorization: `Bearer ${token}` },
        payload: { email: 'nobody-yet@example.com', role: 'member' },
      })
      expect(invite.statusCode).toBe(201)
      expect(
        (await client.query("SELECT 1 FROM invitations WHERE email = 'nobody-yet@example.com'"))
          .rowCount,
      ).toBe(1)
      // Verification, reset and invitation emails: all recorded, none lost.
      // This test's own (other tests of the file may leave emails of theirs waiting).
      const waiting = await client.query(
        `SELECT data->'payload'->>'template' AS template FROM outbox_messages
         WHERE published_at IS NULL
           AND data->'payload'->>'to' IN ('redis-down@example.com', 'nobody-yet@example.com')
         ORDER BY created_at`,
      )
      expect(waiting.rows.map((r) => r.template)).toEqual([
        'verify-email',
        'password-reset',
        'invitation',
      ])
      // Each carries the request that made it, so the worker's logs join the request's.
      const context = await client.query(
        "SELECT data->'context' AS context FROM outbox_messages WHERE data->'payload'->>'template' = 'invitation'",
      )
      expect(context.rows[0].context).toEqual({
        requestId: invite.headers['x-request-id'],
        organizationId: org.json().id,
      })
      await client.end()
      const oauth = await app.inject({ method: 'POST', url: '/v1/auth/oauth/github/start' })
      expect(oauth.statusCode).toBeLessThan(500)
    } finally {
      await app.close()
      await redisPort.close()
    }
  })
})

describe('when Postgres is slow', () => {
  it('a statement past its timeout, and a pool with no free connection, answer 503', async () => {
    const { database, redis } = services()
    const app = await buildTestServer({
      DATABASE_URL: database.appUrl,
      REDIS_URL: redis.url,
      DATABASE_STATEMENT_TIMEOUT_MS: '300',
      DATABASE_POOL_MAX: '2',
    })
    const { headers, orgId } = await signUpOwner(app)
    // Another session holds a lock the list must wait for: Postgres "hangs" for the API.
    const locker = new pg.Client({ connectionString: database.url })
    await locker.connect()
    try {
      await locker.query('BEGIN; LOCK TABLE projects IN ACCESS EXCLUSIVE MODE')
      const started = Date.now()
      const slow = await app.inject({ url: `/v1/orgs/${orgId}/projects`, headers })
      expect(slow.statusCode, slow.body).toBe(503)
      expect(slow.headers['retry-after']).toBe('5')
      expect(slow.body).not.toMatch(/statement timeout|canceling|at /)
      expect(Date.now() - started).toBeLessThan(5_000)
      // Many at once: twelve rounds of 300 ms on a pool of two outlast the 2 s wait for a
      // connection, so some find no connection at all. Every answer is a 503.
      const burst = await Promise.all(
        Array.from({ length: 24 }, () =>
          app.inject({ url: `/v1/orgs/${orgId}/projects`, headers }),
        ),
      )
      expect(new Set(burst.map((r) => r.statusCode))).toEqual(new Set([503]))
      // A keyed create, one pipeline sent around Prisma (ADR 045): its insert waits for the
      // lock past the statement timeout, node-postgres's error is a 503 all the same, and
      // the key is freed, so the same request succeeds once Postgres is back.
      const create = () =>
        app.inject({
          method: 'POST',
          url: `/v1/orgs/${orgId}/projects`,
          headers: { ...headers, 'idempotency-key': 'slow-create' },
          payload: { name: 'Slow' },
        })
      const refused = await create()
      expect(refused.statusCode, refused.body).toBe(503)
      expect(refused.headers['retry-after']).toBe('5')
      expect(refused.body).not.toMatch(/statement timeout|canceling|at /)
      await locker.query('ROLLBACK')
      const created = await create()
      expect(created.statusCode, created.body).toBe(201)
      expect(created.headers['idempotent-replayed']).toBeUndefined()
    } finally {
      await locker.query('ROLLBACK').catch(() => {})
      await locker.end()
      await app.close()
    }
  })
})
