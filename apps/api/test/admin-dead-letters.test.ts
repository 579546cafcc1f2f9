import { fileDeadLetter, openDeadLetters } from '@repo/jobs'
import { startGatedPort } from '@repo/testing'
import { Queue } from 'bullmq'
import { Redis } from 'ioredis'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildTestServer, signUpOwner, useApiServer } from './helpers.ts'

// The dead-letter admin API: platform operators only (users.platform_admin), the same
// operations as `pnpm jobs dlq`, against the queues the worker writes to.
const { server, services, sql } = useApiServer()
const QUEUE = 'admin-test'
let redis: Redis
let queue: Queue

beforeAll(() => {
  redis = new Redis(services().redis.url, { maxRetriesPerRequest: null })
  queue = new Queue(QUEUE, { connection: redis })
})
afterAll(async () => {
  await queue?.close()
  redis?.disconnect()
})

async function fileOne(jobId: string) {
  const job = await queue.add('test.work', { v: 1, payload: { n: jobId }, context: {} }, { jobId })
  const deadLetters = openDeadLetters(redis)
  await fileDeadLetter(deadLetters, QUEUE, job, new Error(`boom ${jobId}`))
  await deadLetters.close()
  return `${QUEUE}-${jobId}`
}

async function operator() {
  const admin = await signUpOwner(server)
  await sql('UPDATE users SET platform_admin = true WHERE id = $1', [admin.userId])
  return admin.headers
}

describe('dead letters through the admin API', () => {
  it('are for platform operators only', async () => {
    const { headers } = await signUpOwner(server)
    for (const [method, url] of [
      ['GET', '/v1/admin/dead-letters'],
      ['POST', '/v1/admin/dead-letters/replay-all'],
      ['DELETE', '/v1/admin/dead-letters'],
    ] as const) {
      const res = await server.inject({ method, url, headers })
      expect(res.statusCode, `${method} ${url}`).toBe(403)
    }
    expect((await server.inject({ url: '/v1/admin/dead-letters' })).statusCode).toBe(401)
  })

  it('list page by page, show, replay, and purge', async () => {
    const headers = await operator()
    await server.inject({ method: 'DELETE', url: '/v1/admin/dead-letters', headers })
    const ids = [await fileOne('biz-1'), await fileOne('biz-2'), await fileOne('biz-3')]

    const first = await server.inject({ url: '/v1/admin/dead-letters?limit=2', headers })
    expect(first.json()).toMatchObject({ total: 3 })
    expect(first.json().data).toHaveLength(2)
    const second = await server.inject({
      url: `/v1/admin/dead-letters?limit=2&cursor=${first.json().nextCursor}`,
      headers,
    })
    expect(second.json()).toMatchObject({ nextCursor: null })
    const listed = [...first.json().data, ...second.json().data].map((d: { id: string }) => d.id)
    expect(listed.sort()).toEqual([...ids].sort())

    const shown = await server.inject({ url: `/v1/admin/dead-letters/${ids[0]}`, headers })
    expect(shown.json()).toMatchObject({
      queue: QUEUE,
      jobId: 'biz-1',
      error: 'boom biz-1',
      data: { payload: { n: 'biz-1' } },
    })

    const replayed = await server.inject({
      method: 'POST',
      url: `/v1/admin/dead-letters/${ids[0]}/replay`,
      headers,
    })
    expect(replayed.statusCode).toBe(202)
    expect(await (await queue.getJob('biz-1'))?.getState()).toBe('waiting')
    const purged = await server.inject({
      method: 'DELETE',
      url: `/v1/admin/dead-letters/${ids[1]}`,
      headers,
    })
    expect(purged.statusCode).toBe(204)
    const all = await server.inject({
      method: 'POST',
      url: '/v1/admin/dead-letters/replay-all',
      headers,
    })
    expect(all.json()).toEqual({ replayed: 1 })
    expect((await server.inject({ url: '/v1/admin/dead-letters', headers })).json()).toMatchObject({
      total: 0,
      data: [],
    })
    const audited = (await sql(
      "SELECT action FROM audit_logs WHERE target_type = 'dead_letter' ORDER BY created_at",
    )) as Array<{ action: string }>
    expect(audited.map((a) => a.action)).toEqual(
      expect.arrayContaining([
        'dead_letter.replayed',
        'dead_letter.purged',
        'dead_letter.replayed_all',
      ]),
    )
  })

  it('need a recent sign-in to replay or purge, not just a valid session', async () => {
    const headers = await operator()
    await sql("UPDATE sessions SET created_at = now() - interval '1 day'")
    for (const [method, url] of [
      ['POST', '/v1/admin/dead-letters/replay-all'],
      ['DELETE', '/v1/admin/dead-letters'],
      ['DELETE', '/v1/admin/dead-letters/any-1'],
    ] as const) {
      const res = await server.inject({ method, url, headers })
      expect(res.statusCode, `${method} ${url}`).toBe(403)
      expect(res.json().type).toBe('urn:groundwork:problem:step_up_required')
    }
    // Reading stays open to the session.
    expect((await server.inject({ url: '/v1/admin/dead-letters', headers })).statusCode).toBe(200)
  })

  it('answer 404 for an unknown entry and 400 for a malformed id or cursor', async () => {
    const headers = await operator()
    expect(
      (await server.inject({ url: '/v1/admin/dead-letters/nope-1', headers })).statusCode,
    ).toBe(404)
    expect(
      (
        await server.inject({
          method: 'POST',
          url: '/v1/admin/dead-letters/nope-1/replay',
          headers,
        })
      ).statusCode,
    ).toBe(404)
    expect((await server.inject({ url: '/v1/admin/dead-letters/a%20b', headers })).statusCode).toBe(
      400,
    )
    expect(
      (await server.inject({ url: '/v1/admin/dead-letters?cursor=bad!', headers })).statusCode,
    ).toBe(400)
  })
})

describe('dead letters while Redis comes and goes', () => {
  it('answer 503 while Redis is down, and work once it is back, without a restart', {
    timeout: 90_000,
  }, async () => {
    // The API's Redis is a port we hold: shut (connections reset), then open onto this
    // file's Redis. Nobody else can take it meanwhile.
    const redisUrl = new URL(services().redis.url)
    const redisPort = await startGatedPort({ target: Number(redisUrl.port) })
    redisUrl.port = String(redisPort.port)
    const app = await buildTestServer({
      DATABASE_URL: services().database.appUrl,
      REDIS_URL: redisUrl.toString(),
      REDIS_CONNECT_TIMEOUT_MS: '200',
    })
    try {
      const headers = await operator()
      const down = await app.inject({ url: '/v1/admin/dead-letters', headers })
      expect(down.statusCode).toBe(503)
      redisPort.open()
      await expect
        .poll(
          async () => (await app.inject({ url: '/v1/admin/dead-letters', headers })).statusCode,
          {
            timeout: 15_000,
            interval: 250,
          },
        )
        .toBe(200)
    } finally {
      await app.close()
      await redisPort.close()
    }
  })
})
