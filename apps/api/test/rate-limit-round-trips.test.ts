import { generateSecret } from '@repo/auth'
import { RATE_LIMIT_KEY_PREFIX } from '@repo/core'
import { useIsolatedServices, waitUntil } from '@repo/testing'
import { type RedisServer, startEphemeralRedis } from '@repo/testing/servers'
import Fastify, { type FastifyInstance, type LightMyRequestResponse } from 'fastify'
import fp from 'fastify-plugin'
import { serializerCompiler, validatorCompiler } from 'fastify-type-provider-zod'
import { Redis } from 'ioredis'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import app from '../src/app.ts'
import { buildServer } from '../src/build-server.ts'
import type { AccessCache } from '../src/lib/access-cache.ts'
import type { KnownCaller } from '../src/plugins/app/rate-limit.ts'
import { signUpOwner, testEnv } from './helpers.ts'

// Every rate-limit tier counted at one point of a request goes to Redis in one call (ADR
// 036): the address alone in onRequest, then the user and organization in preValidation;
// all three in onRequest when the caller is already known there. Watched on a Redis server
// of this file's own with MONITOR, which also shows the commands a script runs.
const services = useIsolatedServices()
let redis: RedisServer
const closing: Array<() => Promise<unknown>> = []

beforeAll(async () => {
  redis = await startEphemeralRedis()
})
afterAll(async () => {
  for (const close of closing.reverse()) await close()
  await redis?.stop()
})

/** API settings: this file's database, `redisUrl` (this file's server) and these limits. */
const env = (limits: Record<string, string>, redisUrl = redis.url) => ({
  DATABASE_URL: services().database.appUrl,
  REDIS_URL: redisUrl,
  // The access plugin's in-process copy of sessions off: which path a request takes is
  // decided here, by knownCaller, not by what that copy holds.
  ACCESS_CACHE_TTL_MS: '0',
  ...limits,
})

/** The real API (buildServer), closed after the file. */
async function api(settings: Record<string, string>, onQuery?: (sql: string) => void) {
  const server = await buildServer(testEnv(settings), onQuery ? { onQuery } : {})
  await server.ready()
  closing.push(() => server.close())
  return server
}

/**
 * The real app behind a hook that runs before any of its own and names the caller of a
 * request bearing one of `known`'s tokens, as the access plugin's onRequest does when its
 * in-process copy of the session and membership answers.
 */
async function apiWithKnownCallers(
  settings: Record<string, string>,
  onQuery?: (sql: string) => void,
) {
  const known = new Map<string, KnownCaller>()
  const server = Fastify()
  server.setValidatorCompiler(validatorCompiler)
  server.setSerializerCompiler(serializerCompiler)
  server.addHook('onRequest', async (request) => {
    request.knownCaller = known.get(request.headers.authorization ?? '') ?? null
  })
  await server.register(fp(app, { name: 'app' }), {
    env: testEnv(settings),
    ...(onQuery ? { onQuery } : {}),
  })
  await server.ready()
  closing.push(() => server.close())
  return { server, known }
}

interface Seen {
  command: string
  args: string[]
  /** 'lua' for the commands a script ran, else the client's address. */
  source: string
}

/**
 * Every command Redis ran while `work` did, in order: MONITOR on a connection of its own,
 * until a marker sent after `work` shows that everything before it has been seen.
 */
async function watchRedis<T>(url: string, work: () => Promise<T>) {
  const { monitor, errors } = await openMonitor(url)
  const seen: Seen[] = []
  monitor.on('monitor', (_time: string, args: string[], source: string) => {
    const [command = '', ...rest] = args
    seen.push({ command: command.toLowerCase(), args: rest, source })
  })
  const marker = `end-of-work-${crypto.randomUUID()}`
  try {
    const result = await work()
    const client = new Redis(url)
    await client.echo(marker).finally(() => client.disconnect())
    await waitUntil(() => seen.some((c) => c.command === 'echo' && c.args[0] === marker), {
      what: 'MONITOR to show the commands sent before the marker',
    })
    expect(errors).toEqual([])
    return { result, seen }
  } finally {
    monitor.disconnect()
  }
}

/**
 * A connection in MONITOR mode, resolved once ioredis reads its feed as such.
 *
 * Not `redis.monitor()`: ioredis switches a connection to monitoring a microtask after
 * MONITOR's `OK` is parsed, so a feed line that arrives in the same read as the `OK` (another
 * client's command at that instant) is taken for a reply to a command never sent, and ioredis
 * emits "Command queue state error". `monitor()` turns the first of these into a rejection and
 * the next into an unhandled error. Such a line is a command run before MONITOR took effect,
 * so before `work` began, and is dropped here; any other error still fails the test.
 */
function openMonitor(url: string) {
  const monitor = new Redis(url, { monitor: true })
  /** Errors after the feed began: watchRedis fails on any. */
  const errors: Error[] = []
  // Set as ioredis sets its status to 'monitoring' (which its RedisStatus type does not name).
  let monitoring = false
  const ready = new Promise<Redis>((resolve, reject) => {
    monitor.on('error', (error: Error) => {
      if (monitoring) errors.push(error)
      else if (!error.message.startsWith('Command queue state error')) reject(error)
    })
    monitor.once('monitoring', () => {
      monitoring = true
      resolve(monitor)
    })
  })
  return ready.then(() => ({ monitor, errors }))
}

const isRateLimitKey = (arg: string) => arg.startsWith(RATE_LIMIT_KEY_PREFIX)
/** The calls to Redis that touched rate-limit counters, each as the keys it named. */
const rateLimitCalls = (seen: Seen[]) =>
  seen
    .filter((c) => c.source !== 'lua' && c.args.some(isRateLimitKey))
    .map((c) => c.args.filter(isRateLimitKey))
/** What the rate-limit scripts ran, e.g. ['incr', key]. */
const scriptCommands = (seen: Seen[]) =>
  seen.filter((c) => c.source === 'lua').map((c) => [c.command, ...c.args])

let address = 0
/** A client address of its own. */
const freshIp = () => `10.36.${Math.floor(++address / 250)}.${address % 250}`
const key = (tier: string, limit: number, subject: string) =>
  `${RATE_LIMIT_KEY_PREFIX}${tier}:default:${limit}::${subject}`
/** The keys of one call counting all three tiers, at the limits 50, 40 and 30 these tests set. */
const threeTiers = (ip: string, owner: { userId: string; orgId: string }) => [
  key('ip', 50, ip),
  key('user', 40, `user:${owner.userId}`),
  key('organization', 30, owner.orgId),
]

describe('rate limits counted in one Redis call', () => {
  it('count address, user and organization in one call in onRequest when the caller is known, and nothing more in preValidation', async () => {
    const { server, known } = await apiWithKnownCallers(
      env({
        RATE_LIMIT_IP_PER_MINUTE: '50',
        RATE_LIMIT_USER_PER_MINUTE: '40',
        RATE_LIMIT_ORG_PER_MINUTE: '30',
      }),
    )
    const owner = await signUpOwner(server)
    known.set(owner.headers.authorization, {
      caller: `user:${owner.userId}`,
      organizationId: owner.orgId,
    })
    const ip = freshIp()
    const { result: res, seen } = await watchRedis(redis.url, () =>
      server.inject({
        url: `/v1/orgs/${owner.orgId}/projects`,
        headers: owner.headers,
        remoteAddress: ip,
      }),
    )
    expect(res.statusCode).toBe(200)
    expect(rateLimitCalls(seen)).toEqual([threeTiers(ip, owner)])
    expect(scriptCommands(seen).filter(([command]) => command === 'incr')).toHaveLength(3)
    expect(res.headers['ratelimit-policy']).toBe(
      '50;w=60;x-groundwork-tier="ip", 40;w=60;x-groundwork-tier="user", 30;w=60;x-groundwork-tier="organization"',
    )
    expect(res.headers['ratelimit-limit']).toBe('30')
  })

  it('refuse a known caller over their limit in onRequest, before any SQL statement', async () => {
    let statements = 0
    const { server, known } = await apiWithKnownCallers(
      env({ RATE_LIMIT_USER_PER_MINUTE: '2' }),
      () => {
        statements++
      },
    )
    const owner = await signUpOwner(await api(env({})))
    known.set(owner.headers.authorization, {
      caller: `user:${owner.userId}`,
      organizationId: owner.orgId,
    })
    const answers: Array<{ code: number; statements: number }> = []
    for (let i = 0; i < 3; i++) {
      statements = 0
      const res = await server.inject({
        url: `/v1/orgs/${owner.orgId}/projects`,
        headers: owner.headers,
        remoteAddress: freshIp(),
      })
      answers.push({ code: res.statusCode, statements })
    }
    expect(answers.map((a) => a.code)).toEqual([200, 200, 429])
    // The requests let through did their work; the refused one did none.
    expect(answers[0]?.statements).toBeGreaterThan(0)
    expect(answers[2]?.statements).toBe(0)
  })

  it('count the address in onRequest, then user and organization in one call in preValidation, when the caller is not known yet', async () => {
    const server = await api(
      env({
        RATE_LIMIT_IP_PER_MINUTE: '50',
        RATE_LIMIT_USER_PER_MINUTE: '40',
        RATE_LIMIT_ORG_PER_MINUTE: '30',
      }),
    )
    // Signed up elsewhere: this instance has never seen the session.
    const owner = await signUpOwner(await api(env({})))
    const ip = freshIp()
    const { result: res, seen } = await watchRedis(redis.url, () =>
      server.inject({
        url: `/v1/orgs/${owner.orgId}/projects`,
        headers: owner.headers,
        remoteAddress: ip,
      }),
    )
    expect(res.statusCode).toBe(200)
    expect(rateLimitCalls(seen)).toEqual([
      [key('ip', 50, ip)],
      [key('user', 40, `user:${owner.userId}`), key('organization', 30, owner.orgId)],
    ])
    expect(res.headers['ratelimit-limit']).toBe('30')
    expect(res.headers['ratelimit-remaining']).toBe('29')
  })

  it("with the access plugin's own copy of session and membership: one call for all three tiers, and no read of either", async () => {
    const statements: string[] = []
    const server = await api(
      {
        ...env({
          RATE_LIMIT_IP_PER_MINUTE: '50',
          RATE_LIMIT_USER_PER_MINUTE: '40',
          RATE_LIMIT_ORG_PER_MINUTE: '30',
        }),
        ACCESS_CACHE_TTL_MS: '10000',
      },
      (sql) => statements.push(sql),
    )
    const cache = (server as FastifyInstance & { accessCache: AccessCache }).accessCache
    await waitUntil(() => cache.active, { what: 'the access cache to hear announcements' })
    const owner = await signUpOwner(server)
    const ip = freshIp()
    const list = () =>
      server.inject({
        url: `/v1/orgs/${owner.orgId}/projects`,
        headers: owner.headers,
        remoteAddress: ip,
      })
    // The first request reads session and membership from Postgres and keeps them.
    expect((await list()).statusCode).toBe(200)
    statements.length = 0
    const { result: res, seen } = await watchRedis(redis.url, list)
    expect(res.statusCode).toBe(200)
    expect(rateLimitCalls(seen)).toEqual([threeTiers(ip, owner)])
    expect(statements.length).toBeGreaterThan(0)
    expect(statements.filter((sql) => /sessions|app_membership_access/.test(sql))).toEqual([])
  })

  it('refuse a caller far over a limit from memory, without asking Redis, until the window ends', async () => {
    const server = await api(env({ RATE_LIMIT_IP_PER_MINUTE: '3' }))
    const ip = freshIp()
    const me = () => server.inject({ url: '/v1/auth/me', remoteAddress: ip })
    const codes: number[] = []
    // The sixth request takes the count to twice the limit.
    for (let i = 0; i < 6; i++) codes.push((await me()).statusCode)
    expect(codes).toEqual([401, 401, 401, 429, 429, 429])
    const { result: refused, seen } = await watchRedis(redis.url, me)
    expect(refused.statusCode).toBe(429)
    expect(rateLimitCalls(seen)).toEqual([])
    const [count, ms] = await withClient((client) =>
      Promise.all([client.get(key('ip', 3, ip)), client.pttl(key('ip', 3, ip))]),
    )
    expect(count).toBe('6')
    // Retry-After names the end of the counter's window, not a minute from now.
    expect(Number(refused.headers['retry-after'])).toBeLessThanOrEqual(Math.ceil(ms / 1000))
    expect(refused.json().detail).toContain('from your address')
  })

  it('still count in Redis after Redis has forgotten the script (NOSCRIPT)', async () => {
    const server = await api(env({ RATE_LIMIT_IP_PER_MINUTE: '50' }))
    const ip = freshIp()
    expect((await server.inject({ url: '/v1/auth/me', remoteAddress: ip })).statusCode).toBe(401)
    await withClient((client) => client.script('FLUSH'))
    expect((await server.inject({ url: '/v1/auth/me', remoteAddress: ip })).statusCode).toBe(401)
    // Counted by Redis both times, not by this instance's memory the second time.
    expect(await withClient((client) => client.get(key('ip', 50, ip)))).toBe('2')
  })
})

/** Runs `work` with a client of this file's Redis. */
async function withClient<T>(work: (client: Redis) => Promise<T>, url = redis.url) {
  const client = new Redis(url)
  try {
    return await work(client)
  } finally {
    client.disconnect()
  }
}

describe('concurrent requests', () => {
  const limits = {
    RATE_LIMIT_IP_PER_MINUTE: '1000',
    RATE_LIMIT_USER_PER_MINUTE: '5',
    RATE_LIMIT_ORG_PER_MINUTE: '1000',
  }

  /** Nine requests at once, over two instances, by one user from one address. */
  async function nineAtOnce(
    instances: FastifyInstance[],
    owner: Awaited<ReturnType<typeof signUpOwner>>,
  ) {
    const ip = freshIp()
    const answers = await Promise.all(
      Array.from({ length: 9 }, (_, i) =>
        (instances[i % 2] as FastifyInstance).inject({
          url: `/v1/orgs/${owner.orgId}/projects`,
          headers: owner.headers,
          remoteAddress: ip,
        }),
      ),
    )
    const counts = await withClient((client) =>
      client.mget(
        key('ip', 1000, ip),
        key('user', 5, `user:${owner.userId}`),
        key('organization', 1000, owner.orgId),
      ),
    )
    return { codes: answers.map((r: LightMyRequestResponse) => r.statusCode).sort(), counts }
  }

  it('let exactly the limit through, and give the organization back what the refused took, the address never', async () => {
    // Known callers: every tier in one call in onRequest.
    const first = await apiWithKnownCallers(env(limits))
    const second = await apiWithKnownCallers(env(limits))
    const owner = await signUpOwner(await api(env({})))
    for (const { known } of [first, second])
      known.set(owner.headers.authorization, {
        caller: `user:${owner.userId}`,
        organizationId: owner.orgId,
      })
    const early = await nineAtOnce([first.server, second.server], owner)
    expect(early.codes).toEqual([200, 200, 200, 200, 200, 429, 429, 429, 429])
    expect(early.counts).toEqual(['9', '9', '5'])

    // Callers named by the access check: user and organization in one call in preValidation.
    const instances = [await api(env(limits)), await api(env(limits))]
    const other = await signUpOwner(await api(env({})))
    const late = await nineAtOnce(instances, other)
    expect(late.codes).toEqual([200, 200, 200, 200, 200, 429, 429, 429, 429])
    expect(late.counts).toEqual(['9', '9', '5'])
  })
})

describe('the per-address limit', () => {
  it('refuses requests without a valid session before any session lookup', async () => {
    let statements = 0
    const server = await api(env({ RATE_LIMIT_IP_PER_MINUTE: '4' }), () => {
      statements++
    })
    const ip = freshIp()
    // Shaped like a session token, so it is looked up when it gets that far.
    const forged = `Bearer ${generateSecret()}`
    const answers: Array<{ code: number; statements: number }> = []
    for (const authorization of [undefined, forged, undefined, forged, forged, undefined]) {
      statements = 0
      const res = await server.inject({
        url: '/v1/auth/me',
        remoteAddress: ip,
        headers: authorization ? { authorization } : {},
      })
      answers.push({ code: res.statusCode, statements })
    }
    // A forged token is looked up (and fails) while the address is within its limit;
    // past it, neither kind of request reaches the session lookup.
    expect(answers.map((a) => a.code)).toEqual([401, 401, 401, 401, 429, 429])
    expect(answers[1]?.statements).toBeGreaterThan(0)
    expect(answers.slice(4).map((a) => a.statements)).toEqual([0, 0])
  })
})

describe('Redis failing', () => {
  const limits = { RATE_LIMIT_USER_PER_MINUTE: '3' }

  /** A Redis server of the test's own, an instance knowing the caller on it, and the caller. */
  async function apiOnOwnRedis() {
    const own = await startEphemeralRedis()
    closing.push(() => own.stop())
    const { server, known } = await apiWithKnownCallers(env(limits, own.url))
    const owner = await signUpOwner(await api(env({})))
    known.set(owner.headers.authorization, {
      caller: `user:${owner.userId}`,
      organizationId: owner.orgId,
    })
    const request = async () => {
      const started = performance.now()
      const res = await server.inject({
        url: `/v1/orgs/${owner.orgId}/projects`,
        headers: owner.headers,
        remoteAddress: freshIp(),
      })
      return { code: res.statusCode, ms: performance.now() - started }
    }
    return { own, request }
  }

  it('limits every tier from memory when Redis is frozen, without waiting for it', async () => {
    const { own, request } = await apiOnOwnRedis()
    // With Redis answering: the same request, on this machine, now.
    const live = await request()
    expect(live.code).toBe(200)
    // Frozen: connected, reading nothing (CLIENT PAUSE holds every client's commands).
    await withClient((client) => client.call('CLIENT', 'PAUSE', '60000', 'ALL'), own.url)
    try {
      const frozen = []
      for (let i = 0; i < 4; i++) frozen.push(await request())
      expect(frozen.map((r) => r.code)).toEqual([200, 200, 200, 429])
      // Each waited at most the limiter's 200 ms, not Redis's 2 s command timeout: the
      // bound is half of that over the baseline, so a busy machine cannot fail it.
      const total = frozen.reduce((sum, r) => sum + r.ms, 0)
      expect(total).toBeLessThan(4 * (live.ms + 1_000))
    } finally {
      // Stopped now, so closing the API does not wait on a paused Redis.
      await own.stop()
    }
  })

  it('limits every tier from memory when Redis has stopped', async () => {
    const { own, request } = await apiOnOwnRedis()
    const codes = [(await request()).code]
    await own.stop()
    for (let i = 0; i < 4; i++) codes.push((await request()).code)
    // Counted in Redis once; then this instance counts from zero, in memory.
    expect(codes).toEqual([200, 200, 200, 200, 429])
  })
})
