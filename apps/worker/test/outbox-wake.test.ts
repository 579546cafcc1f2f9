import { type AddressInfo, createServer, type Socket } from 'node:net'
import type { PrismaClient } from '@repo/db'
import { type GatedPort, startGatedPort, TEST_WORKER_LOGIN } from '@repo/testing'
import { pgbouncerInstalled, type StartedPgbouncer, startPgbouncer } from '@repo/testing/servers'
import { Queue } from 'bullmq'
import { Redis } from 'ioredis'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { createOutboxListener, type OutboxListenerOptions } from '../src/outbox-listener.ts'
import { createOutboxRelay, type OutboxRelayOptions } from '../src/outbox-relay.ts'
import { capturingLogger, testDatabaseClient } from './helpers.ts'
import { useOutbox } from './outbox-fixture.ts'

// Commits wake the outbox relay (ADR 038), against real Postgres, Redis and PgBouncer. The
// relay polls once a minute in these tests (every two minutes when not listening, so its
// waits tell which it believes), far beyond every deadline: only a wake-up explains a
// message published in time.
const fixture = useOutbox()
const { services, owner, record, unpublished } = fixture
const MINUTE = 60_000
const HEARS = 'outbox listener hears commits; the relay polls only as a safety net'
const LOST =
  'outbox listener lost its connection; the relay polls every OUTBOX_FALLBACK_POLL_MS until it is back'
const running: Array<{ stop(): Promise<void> }> = []
const gates: GatedPort[] = []
afterEach(async () => {
  for (const part of running.splice(0).reverse()) await part.stop()
  for (const gate of gates.splice(0)) await gate.close()
})

/** A relay and its listener, started, logging into `lines`; stopped after the test. */
function woken(
  options: {
    /** Where the listener connects; false: no listener (the relay alone). */
    url?: string | false
    relay?: Partial<OutboxRelayOptions>
    listener?: Partial<OutboxListenerOptions>
  } = {},
) {
  const { logger, lines } = capturingLogger()
  const waits: number[] = []
  const probes: string[] = []
  const relay = createOutboxRelay({
    db: fixture.db,
    queueFor: () => fixture.queue,
    logger,
    pollMs: MINUTE,
    fallbackPollMs: 2 * MINUTE,
    onWait: (ms) => waits.push(ms),
    ...options.relay,
  })
  const listener = createOutboxListener({
    connectionString: options.url || services().database.workerUrl,
    relay,
    logger,
    notify: (channel, payload) => {
      probes.push(channel)
      return fixture.db.$queryRaw`SELECT 1 AS sent FROM pg_notify(${channel}, ${payload})`
    },
    heartbeatMs: 100,
    timeoutMs: 1_000,
    minBackoffMs: 20,
    maxBackoffMs: 200,
    unprovenRetryMs: 100,
    ...options.listener,
  })
  relay.start()
  if (options.url !== false) listener.start()
  const parts = { stop: () => Promise.all([listener.stop(), relay.stop()]).then(() => {}) }
  running.push(parts)
  const logged = (msg: string) => lines.filter((line) => line.msg === msg)
  return {
    relay,
    listener,
    waits,
    probes,
    lines,
    logged,
    hears: () => logged(HEARS).length,
    ...parts,
  }
}

/** Whether the job of the message recorded as `message` is in the queue. */
async function published(message: string) {
  const jobs = await fixture.queue.getJobs(['waiting', 'prioritized', 'delayed'])
  return jobs.some((job) => job.data?.payload?.message === message)
}

/**
 * A loopback port where Postgres is down in two ways by turns: one connection is reset, the
 * next is accepted and never answered (a timeout). Its URL, and how many connections came.
 */
async function downByTurns() {
  let arrivals = 0
  const sockets = new Set<Socket>()
  const server = createServer((socket) => {
    sockets.add(socket)
    socket.on('error', () => {})
    socket.once('close', () => sockets.delete(socket))
    if (arrivals++ % 2 === 0) socket.resetAndDestroy()
  })
  await new Promise<void>((listening) => server.listen(0, '127.0.0.1', listening))
  running.push({
    stop: () =>
      new Promise<void>((closed) => {
        for (const socket of sockets) socket.destroy()
        server.close(() => closed())
      }),
  })
  const url = new URL(services().database.workerUrl)
  url.port = String((server.address() as AddressInfo).port)
  return { url: url.toString(), arrivals: () => arrivals }
}

/** A loopback port in front of this file's Postgres, open; the listener's URL through it. */
async function gatedDatabase() {
  const url = new URL(services().database.workerUrl)
  const gate = await startGatedPort({ target: Number(url.port) })
  gates.push(gate)
  gate.open()
  url.port = String(gate.port)
  return { gate, url: url.toString() }
}

describe('a relay woken by commits', () => {
  it('publishes a commit at once, though it polls once a minute', async () => {
    const outbox = woken()
    await expect.poll(outbox.hears).toBe(1)
    await record('hello')
    await expect.poll(() => published('hello'), { timeout: 5_000 }).toBe(true)
    // It waits a minute between passes (the safety net) while it hears commits.
    await expect.poll(() => outbox.waits.at(-1)).toBe(MINUTE)
  })

  it('reconnects when its backend is terminated, and hears commits again', async () => {
    const outbox = woken()
    await expect.poll(outbox.hears).toBe(1)
    const backend = outbox.listener.backendPid()
    await owner('SELECT pg_terminate_backend($1)', [backend])
    await expect.poll(outbox.hears).toBe(2)
    expect(outbox.listener.backendPid()).not.toBe(backend)
    expect(outbox.logged(LOST).map((line) => line.err)).toEqual([expect.stringMatching(/terminat/)])
    await record('after the reconnect')
    await expect.poll(() => published('after the reconnect'), { timeout: 5_000 }).toBe(true)
  })

  it('publishes what committed while it was disconnected as soon as it is back', async () => {
    const { gate, url } = await gatedDatabase()
    const outbox = woken({ url })
    await expect.poll(outbox.hears).toBe(1)
    const waited = outbox.waits.length
    gate.shut()
    // Losing the listener costs one pass, then the relay waits as one that hears nothing.
    await expect.poll(() => outbox.waits.slice(waited)).toContain(2 * MINUTE)
    await record('while nobody listens')
    expect(await published('while nobody listens')).toBe(false)
    gate.open()
    await expect.poll(() => published('while nobody listens'), { timeout: 5_000 }).toBe(true)
    expect(outbox.hears()).toBe(2)
  })

  it('replaces a connection that goes silent', async () => {
    const { gate, url } = await gatedDatabase()
    const outbox = woken({ url })
    await expect.poll(outbox.hears).toBe(1)
    gate.silence()
    await expect.poll(outbox.hears).toBe(2)
    expect(outbox.logged(LOST).map((line) => line.err)).toEqual([
      'a heartbeat got no answer within 1000 ms',
    ])
    await record('after the silence')
    await expect.poll(() => published('after the silence'), { timeout: 5_000 }).toBe(true)
  })

  it('polls fast while the database is down at start, retrying with backoff, then listens', async () => {
    const { gate, url } = await gatedDatabase()
    gate.shut()
    const outbox = woken({
      url,
      relay: { fallbackPollMs: 100 },
      // No jitter: each retry waits half its ceiling, which doubles from 40 ms up to 320.
      listener: { random: () => 0, minBackoffMs: 40, maxBackoffMs: 320 },
    })
    await record('polled')
    await expect.poll(() => published('polled'), { timeout: 5_000 }).toBe(true)
    await expect.poll(() => gate.arrivals.length).toBeGreaterThanOrEqual(6)
    const gaps = gate.arrivals.slice(1, 6).map((at, i) => at - (gate.arrivals[i] as number))
    for (const [i, least] of [20, 40, 80, 160, 160].entries())
      expect(gaps[i], `retry ${i + 1}`).toBeGreaterThanOrEqual(least - 1)
    // One warning for one error, however many attempts; never a slower poll.
    expect(outbox.logged(LOST)).toHaveLength(1)
    expect(new Set(outbox.waits)).toEqual(new Set([100]))
    gate.open()
    await expect.poll(outbox.hears).toBe(1)
    await expect.poll(() => outbox.waits.at(-1)).toBe(MINUTE)
    await record('woken')
    await expect.poll(() => published('woken'), { timeout: 5_000 }).toBe(true)
  })

  it('starts while Postgres is down: tells the outage once, then publishes and listens once it is up', async () => {
    const { gate, url } = await gatedDatabase()
    gate.shut()
    const db = testDatabaseClient(url)
    running.push({ stop: () => db.$disconnect() })
    await record('waiting for the worker')
    const outbox = woken({ url, relay: { db, fallbackPollMs: 100 } })
    // Passes and connections fail again and again; the outage is told once.
    await expect.poll(() => gate.arrivals.length).toBeGreaterThanOrEqual(8)
    expect(outbox.logged('outbox relay poll failed')).toHaveLength(1)
    expect(outbox.logged(LOST)).toHaveLength(1)
    gate.open()
    await expect.poll(() => published('waiting for the worker'), { timeout: 5_000 }).toBe(true)
    // Each recovery is told once, with what it cost.
    await expect
      .poll(() => outbox.logged('outbox relay polls again'))
      .toEqual([expect.objectContaining({ failedPasses: expect.toSatisfy((n: number) => n >= 1) })])
    await expect.poll(outbox.hears).toBe(1)
    // The line that tells it is back counts the attempts the outage cost.
    expect(outbox.logged(HEARS)[0]).toMatchObject({
      attempts: expect.toSatisfy((n: number) => n >= 1),
      downMs: expect.toSatisfy((ms: number) => ms > 0),
    })
    await expect.poll(() => outbox.waits.at(-1)).toBe(MINUTE)
    await record('woken')
    await expect.poll(() => published('woken'), { timeout: 5_000 }).toBe(true)
  })

  it('tells an outage once, however differently its attempts fail', async () => {
    // Resets and timeouts by turns, for the listener and for the relay's passes: a loaded
    // machine's outage looks like this, each attempt meeting it at another point.
    const forListener = await downByTurns()
    const forRelay = await downByTurns()
    const db = testDatabaseClient(forRelay.url)
    running.push({ stop: () => db.$disconnect() })
    const outbox = woken({ url: forListener.url, relay: { db, fallbackPollMs: 100 } })
    await expect
      .poll(() => Math.min(forListener.arrivals(), forRelay.arrivals()), { timeout: 30_000 })
      .toBeGreaterThanOrEqual(5)
    expect(outbox.logged(LOST)).toHaveLength(1)
    expect(outbox.logged('outbox relay poll failed')).toHaveLength(1)
  })

  it('keeps polling as a safety net while it listens: a publish that failed (Redis down) goes out once Redis is back', async () => {
    const redisUrl = new URL(services().redis.url)
    const gate = await startGatedPort({ target: Number(redisUrl.port) })
    gates.push(gate)
    gate.open()
    redisUrl.port = String(gate.port)
    const producer = new Redis(redisUrl.toString(), {
      enableOfflineQueue: false,
      maxRetriesPerRequest: 1,
      retryStrategy: () => 50,
    })
    producer.on('error', () => {})
    const queue = new Queue(fixture.queue.name, { connection: producer })
    queue.on('error', () => {})
    running.push({ stop: () => queue.close().finally(() => producer.disconnect()) })
    await queue.waitUntilReady()
    const outbox = woken({ relay: { queueFor: () => queue, pollMs: 500 } })
    await expect.poll(outbox.hears).toBe(1)
    gate.shut()
    await record('during the outage')
    // The commit's wake-up fails to publish; the safety net tries again after each backoff
    // (1 s, then 2 s), and the same failure is told once.
    const attempts = async () => (await owner('SELECT publish_attempts FROM outbox_messages'))[0]
    await expect
      .poll(attempts, { timeout: 10_000 })
      .toEqual({ publish_attempts: expect.toSatisfy((n: number) => n >= 3) })
    expect(outbox.logged('outbox publish failed; will retry')).toHaveLength(1)
    expect(await unpublished()).toBe(1)
    gate.open()
    // No commit wakes it again: the poll every 0.5 s does, once the backoff (3 s) is over.
    await expect.poll(() => published('during the outage'), { timeout: 10_000 }).toBe(true)
    expect(await unpublished()).toBe(0)
  })

  it('stops cleanly: its connection closed, even in the middle of a backoff', async () => {
    const outbox = woken()
    await expect.poll(outbox.hears).toBe(1)
    await outbox.stop()
    const listeners = () =>
      owner(
        "SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name = 'groundwork-outbox-listener' AND datname = current_database()",
      )
    await expect.poll(listeners).toEqual([{ n: 0 }])

    const { gate, url } = await gatedDatabase()
    gate.shut()
    const waiting = woken({ url, listener: { minBackoffMs: MINUTE, maxBackoffMs: MINUTE } })
    await expect.poll(() => waiting.logged(LOST).length).toBe(1)
    const started = performance.now()
    await waiting.stop()
    expect(performance.now() - started).toBeLessThan(2_000)
  })
})

describe.skipIf(!pgbouncerInstalled() && process.env.CI !== 'true')('through PgBouncer', () => {
  let bouncer: StartedPgbouncer
  const through = (database: string) =>
    `postgresql://${TEST_WORKER_LOGIN.user}:${TEST_WORKER_LOGIN.password}@127.0.0.1:${bouncer.port}/${database}`
  beforeAll(async () => {
    const server = new URL(services().database.url)
    const target = `host=127.0.0.1 port=${server.port} dbname=${server.pathname.slice(1)}`
    bouncer = await startPgbouncer({
      readyUrl: (port) =>
        `postgresql://${TEST_WORKER_LOGIN.user}:${TEST_WORKER_LOGIN.password}@127.0.0.1:${port}/groundwork`,
      files: (dir, port) => ({
        'pgbouncer.ini': [
          '[databases]',
          `groundwork = ${target}`,
          `groundwork_listen = ${target} pool_mode=session`,
          '[pgbouncer]',
          'listen_addr = 127.0.0.1',
          `listen_port = ${port}`,
          'unix_socket_dir =',
          'auth_type = scram-sha-256',
          `auth_file = ${dir}/userlist.txt`,
          'pool_mode = transaction',
          'default_pool_size = 2',
          '',
        ].join('\n'),
        'userlist.txt': `"${TEST_WORKER_LOGIN.user}" "${TEST_WORKER_LOGIN.password}"\n`,
      }),
    })
  })
  afterAll(() => bouncer?.stop())

  it('in transaction mode: warns once, naming OUTBOX_LISTEN_DATABASE_URL, and keeps polling fast', async () => {
    const outbox = woken({ url: through('groundwork'), relay: { fallbackPollMs: 100 } })
    // Tried, and tried again: every probe is lost, and one warning says so.
    await expect.poll(() => outbox.probes.length, { timeout: 10_000 }).toBeGreaterThanOrEqual(3)
    const warnings = outbox.lines.filter((line) => line.level === 'warn')
    expect(warnings).toHaveLength(1)
    expect(warnings[0]?.msg).toMatch(/OUTBOX_LISTEN_DATABASE_URL/)
    expect(outbox.hears()).toBe(0)
    expect(new Set(outbox.waits)).toEqual(new Set([100]))
    await record('polled through the fallback')
    await expect.poll(() => published('polled through the fallback'), { timeout: 5_000 }).toBe(true)
  })

  it('through a session-mode database: hears commits', async () => {
    const outbox = woken({ url: through('groundwork_listen') })
    await expect.poll(outbox.hears).toBe(1)
    await record('through PgBouncer')
    await expect.poll(() => published('through PgBouncer'), { timeout: 5_000 }).toBe(true)
  })
})

describe("the relay's passes", () => {
  it('folds the wake-ups that arrive during a pass into exactly one more pass', async () => {
    let claims = 0
    const db = {
      $queryRaw: (sql: TemplateStringsArray, ...values: unknown[]) => {
        if (sql.join('').includes('outbox_claim')) claims++
        return fixture.db.$queryRaw(sql, ...values)
      },
    } as unknown as PrismaClient
    let release: () => void = () => {}
    const held = new Promise<void>((resolve) => {
      release = resolve
    })
    let adds = 0
    await record('first')
    const outbox = woken({
      url: false,
      relay: {
        db,
        queueFor: () => ({
          add: async (...args: Parameters<Queue['add']>) => {
            if (++adds === 1) await held
            return fixture.queue.add(...args)
          },
        }),
      },
    })
    await expect.poll(() => adds).toBe(1)
    for (let i = 0; i < 5; i++) outbox.relay.wake()
    await record('second')
    release()
    await expect.poll(() => outbox.waits.length).toBe(1)
    expect(claims).toBe(2)
    expect(await unpublished()).toBe(0)
  })

  it('rests after a failed pass: commits waking it do not make it retry at once', async () => {
    let claims = 0
    const db = {
      $queryRaw: (sql: TemplateStringsArray) => {
        if (sql.join('').includes('outbox_claim')) claims++
        return Promise.reject(new Error('permission denied for function outbox_claim'))
      },
    } as unknown as PrismaClient
    const outbox = woken({ url: false, relay: { db, fallbackPollMs: 1_000 } })
    await expect.poll(() => outbox.waits.length).toBe(1)
    // A hundred commits' wake-ups during its rest of a second: it stays resting.
    for (let i = 0; i < 100; i++) {
      outbox.relay.wake()
      await new Promise((resolve) => setImmediate(resolve))
    }
    expect(claims).toBe(1)
    expect(outbox.waits).toEqual([1_000])
    // After the rest, the wake-ups it was given make one pass, which fails again.
    await expect.poll(() => claims, { timeout: 5_000 }).toBe(2)
    expect(outbox.logged('outbox relay poll failed')).toHaveLength(1)
  })

  it('publishes a pass concurrently, bounded, one job per message with two relays racing, and a failed publish gives back only its message', async () => {
    await owner(
      `INSERT INTO outbox_messages (id, organization_id, queue, job_name, data, options)
       SELECT gen_random_uuid(), $1, $2, 'test.notify', jsonb_build_object('v', 1, 'payload', jsonb_build_object('message', 'm' || g), 'context', '{}'::jsonb), '{}'::jsonb
       FROM generate_series(1, 300) g`,
      [fixture.orgId, fixture.queue.name],
    )
    const [victim] = await owner('SELECT id FROM outbox_messages ORDER BY created_at LIMIT 1')
    const adds = new Map<string, number>()
    const inFlight = [0, 0]
    const mostInFlight = [0, 0]
    let failed = false
    const relays = [0, 1].map((r) =>
      woken({
        url: false,
        relay: {
          batch: 50,
          publishConcurrency: 8,
          fallbackPollMs: 20,
          queueFor: () => ({
            add: async (...[name, data, opts]: Parameters<Queue['add']>) => {
              mostInFlight[r] = Math.max(mostInFlight[r] as number, ++(inFlight[r] as number))
              try {
                await new Promise((resolve) => setImmediate(resolve))
                if (opts?.jobId === victim?.id && !failed) {
                  failed = true
                  throw new Error('redis said no')
                }
                adds.set(opts?.jobId as string, (adds.get(opts?.jobId as string) ?? 0) + 1)
                return await fixture.queue.add(name, data, opts)
              } finally {
                ;(inFlight[r] as number)--
              }
            },
          }),
        },
      }),
    )
    await expect.poll(unpublished, { timeout: 20_000 }).toBe(0)
    expect(adds.size).toBe(300)
    expect([...adds.values()].every((n) => n === 1)).toBe(true)
    // Each relay published several at once, never more than its bound.
    for (const most of mostInFlight) {
      expect(most).toBeGreaterThan(1)
      expect(most).toBeLessThanOrEqual(8)
    }
    // Only the message whose publish failed was given back and claimed again.
    expect(
      await owner('SELECT id, publish_attempts FROM outbox_messages WHERE publish_attempts <> 1'),
    ).toEqual([{ id: victim?.id, publish_attempts: 2 }])
    const warnings = relays.flatMap((outbox) => outbox.logged('outbox publish failed; will retry'))
    expect(warnings).toEqual([expect.objectContaining({ failed: 1, err: 'redis said no' })])
  })
})
