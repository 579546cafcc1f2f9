import { useIsolatedServices } from '@repo/testing'
import { startEphemeralRedis } from '@repo/testing/servers'
import type { FastifyInstance, InjectOptions, LightMyRequestResponse } from 'fastify'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildTestServer, forgetAccess, ownerQuery, signUpOwner } from './helpers.ts'

// Limits per IP, per user (or API key) and per organization on every route, counted in
// one Redis by two API instances, and quotas on what an organization may hold. Requests alternate between the instances, as behind a
// load balancer: a per-process count would let twice as many through.
const services = useIsolatedServices()
const instances: FastifyInstance[] = []
let setup: FastifyInstance

beforeAll(async () => {
  const { database, redis } = services()
  const env = {
    DATABASE_URL: database.appUrl,
    REDIS_URL: redis.url,
    RATE_LIMIT_IP_PER_MINUTE: '8',
    RATE_LIMIT_USER_PER_MINUTE: '6',
    RATE_LIMIT_ORG_PER_MINUTE: '10',
    QUOTA_PROJECTS_PER_ORGANIZATION: '3',
    QUOTA_TASKS_PER_PROJECT: '2',
  }
  for (let i = 0; i < 2; i++) instances.push(await buildTestServer(env))
  // Sign-ups and set-up go through an instance without limits (its own buckets).
  setup = await buildTestServer({
    ...env,
    RATE_LIMIT_IP_PER_MINUTE: '1000',
    RATE_LIMIT_USER_PER_MINUTE: '1000',
    RATE_LIMIT_ORG_PER_MINUTE: '1000',
  })
})
afterAll(async () => {
  await Promise.all([...instances, setup].map((app) => app?.close()))
})

let address = 0
/** A client address of its own, so tiers can be watched one at a time. */
const freshIp = () => `10.0.${Math.floor(++address / 250)}.${address % 250}`

async function burst(n: number, request: (i: number) => InjectOptions) {
  const answers: LightMyRequestResponse[] = []
  for (let i = 0; i < n; i++) {
    const app = instances[i % 2] as FastifyInstance
    answers.push(await app.inject(request(i)))
  }
  return answers
}

describe('rate limits', () => {
  it('count per IP across instances, on public routes too, with RateLimit headers', async () => {
    const ip = freshIp()
    const answers = await burst(9, () => ({ url: '/v1/auth/me', remoteAddress: ip }))
    expect(answers.map((r) => r.statusCode)).toEqual([401, 401, 401, 401, 401, 401, 401, 401, 429])
    expect(answers.map((r) => r.headers['ratelimit-remaining'])).toEqual([
      '7',
      '6',
      '5',
      '4',
      '3',
      '2',
      '1',
      '0',
      '0',
    ])
    expect(answers[0]?.headers['ratelimit-limit']).toBe('8')
    expect(Number(answers[0]?.headers['ratelimit-reset'])).toBeGreaterThan(0)
    expect(answers[0]?.headers['ratelimit-policy']).toBe('8;w=60;x-groundwork-tier="ip"')
    const refused = answers[8]
    expect(refused?.headers['content-type']).toContain('application/problem+json')
    expect(Number(refused?.headers['retry-after'])).toBeGreaterThan(0)
    expect(refused?.json()).toMatchObject({
      status: 429,
      type: 'urn:groundwork:problem:rate_limited',
    })
    expect(refused?.json().detail).toContain('from your address')
    // Another address is unaffected.
    expect(
      (await instances[0]?.inject({ url: '/v1/auth/me', remoteAddress: freshIp() }))?.statusCode,
    ).toBe(401)
  })

  it('count refused requests per IP on routes that give refused points back, too', async () => {
    // The invitation routes give user and organization points back for requests they
    // refuse; never the address's: a bad token still counts against it.
    const ip = freshIp()
    const orgId = crypto.randomUUID()
    const answers = await burst(9, () => ({
      method: 'POST',
      url: `/v1/orgs/${orgId}/invitations`,
      headers: { authorization: 'Bearer forged-token' },
      payload: { email: 'x@example.com', role: 'member' },
      remoteAddress: ip,
    }))
    expect(answers.map((r) => r.statusCode)).toEqual([401, 401, 401, 401, 401, 401, 401, 401, 429])
  })

  it('count per user whatever address they come from', async () => {
    const { headers, orgId } = await signUpOwner(setup)
    const answers = await burst(7, () => ({
      url: `/v1/orgs/${orgId}/projects`,
      headers,
      remoteAddress: freshIp(),
    }))
    expect(answers.map((r) => r.statusCode)).toEqual([200, 200, 200, 200, 200, 200, 429])
    expect(answers[6]?.json().detail).toContain('for your account')
    expect(answers[0]?.headers['ratelimit-policy']).toBe(
      '8;w=60;x-groundwork-tier="ip", 6;w=60;x-groundwork-tier="user", 10;w=60;x-groundwork-tier="organization"',
    )
    // The user tier is the tightest, so it is the one reported.
    expect(answers[0]?.headers['ratelimit-limit']).toBe('6')
  })

  it('count per organization across its members and API keys', async () => {
    const owner = await signUpOwner(setup)
    await ownerQuery(services().database.url, 'UPDATE users SET email_verified_at = now()')
    forgetAccess(setup)
    const keys: string[] = []
    for (let i = 0; i < 2; i++) {
      const res = await setup.inject({
        method: 'POST',
        url: `/v1/orgs/${owner.orgId}/api-keys`,
        headers: owner.headers,
        payload: { name: `k${i}`, scopes: ['projects:read'] },
      })
      keys.push(res.json().key)
    }
    // Two keys, five requests each: neither key is over 6, the organization is over 10.
    const answers = await burst(11, (i) => ({
      url: `/v1/orgs/${owner.orgId}/projects`,
      headers: { authorization: `Bearer ${keys[i % 2]}` },
      remoteAddress: freshIp(),
    }))
    expect(answers.slice(0, 10).every((r) => r.statusCode === 200)).toBe(true)
    expect(answers[10]?.statusCode).toBe(429)
    expect(answers[10]?.json().detail).toContain('for this organization')
    // Another organization still has its own budget.
    const other = await signUpOwner(setup)
    const res = await instances[0]?.inject({
      url: `/v1/orgs/${other.orgId}/projects`,
      headers: other.headers,
      remoteAddress: freshIp(),
    })
    expect(res?.statusCode).toBe(200)
  })

  it('keep limiting from memory while Redis is down, and never answer 500', async () => {
    const { database } = services()
    const app = await buildTestServer({
      DATABASE_URL: database.appUrl,
      REDIS_URL: 'redis://127.0.0.1:1',
      REDIS_CONNECT_TIMEOUT_MS: '200',
      RATE_LIMIT_IP_PER_MINUTE: '3',
    })
    try {
      const ip = freshIp()
      const codes = []
      for (let i = 0; i < 4; i++)
        codes.push((await app.inject({ url: '/v1/auth/me', remoteAddress: ip })).statusCode)
      expect(codes).toEqual([401, 401, 401, 429])
    } finally {
      await app.close()
    }
  })
})

describe('a frozen Redis', () => {
  it('slows neither liveness nor requests, and limits still hold from memory', async () => {
    const redis = await startEphemeralRedis()
    const app = await buildTestServer({
      DATABASE_URL: services().database.appUrl,
      REDIS_URL: redis.url,
      RATE_LIMIT_IP_PER_MINUTE: '3',
    })
    /** How long `work` takes, in ms. */
    const timed = async (work: () => Promise<unknown>) => {
      const started = performance.now()
      await work()
      return performance.now() - started
    }
    const fourRequests = async (ip: string) => {
      const codes: number[] = []
      const ms = await timed(async () => {
        for (let i = 0; i < 4; i++)
          codes.push((await app.inject({ url: '/v1/auth/me', remoteAddress: ip })).statusCode)
      })
      return { codes, ms }
    }
    try {
      // Baselines, with Redis answering: the same requests, on this machine, now.
      const liveness = await timed(() => app.inject({ url: '/healthz' }))
      const live = await fourRequests(freshIp())
      expect(live.codes).toEqual([401, 401, 401, 429])

      process.kill(redis.pid as number, 'SIGSTOP')
      // Waiting on Redis would cost its 2 s command timeout per request; the bounds are half
      // of that over the baselines, so a busy machine cannot fail them.
      let healthz = 0
      expect(
        await timed(async () => {
          healthz = (await app.inject({ url: '/healthz' })).statusCode
        }),
      ).toBeLessThan(liveness + 1_000)
      expect(healthz).toBe(200)
      const frozen = await fourRequests(freshIp())
      expect(frozen.codes).toEqual([401, 401, 401, 429])
      // Each waited at most the limiter's 200 ms budget, not Redis's 2 s command timeout.
      expect(frozen.ms).toBeLessThan(live.ms + 4 * 1_000)
    } finally {
      if (redis.pid) process.kill(redis.pid, 'SIGCONT')
      await app.close()
      await redis.stop()
    }
  })
})

describe('quotas', () => {
  it('hold under concurrent creates: projects per organization, tasks per project', async () => {
    const { headers, orgId } = await signUpOwner(setup)
    const projects = await Promise.all(
      Array.from({ length: 6 }, (_, i) =>
        setup.inject({
          method: 'POST',
          url: `/v1/orgs/${orgId}/projects`,
          headers,
          payload: { name: `Project ${i}` },
        }),
      ),
    )
    expect(projects.map((r) => r.statusCode).sort()).toEqual([201, 201, 201, 403, 403, 403])
    const refused = projects.find((r) => r.statusCode === 403)
    expect(refused?.json()).toMatchObject({ type: 'urn:groundwork:problem:quota_exceeded' })
    expect(refused?.json().detail).toContain('quota of 3 projects')
    const projectId = projects.find((r) => r.statusCode === 201)?.json().id
    const tasks = await Promise.all(
      Array.from({ length: 5 }, (_, i) =>
        setup.inject({
          method: 'POST',
          url: `/v1/orgs/${orgId}/projects/${projectId}/tasks`,
          headers,
          payload: { title: `Task ${i}` },
        }),
      ),
    )
    expect(tasks.map((r) => r.statusCode).sort()).toEqual([201, 201, 403, 403, 403])
    const rows = (await ownerQuery(
      services().database.url,
      'SELECT (SELECT count(*)::int FROM projects WHERE organization_id = $1) AS projects, (SELECT count(*)::int FROM tasks WHERE project_id = $2) AS tasks',
      [orgId, projectId],
    )) as [{ projects: number; tasks: number }]
    expect(rows[0]).toEqual({ projects: 3, tasks: 2 })
  })
})
