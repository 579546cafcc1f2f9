import { spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { context, trace } from '@opentelemetry/api'
import { addToOutbox } from '@repo/core'
import { withTenant } from '@repo/db'
import { defineJob } from '@repo/jobs'
import { createLogger } from '@repo/observability'
import { registerTestTracer } from '@repo/testing'
import { Queue, Worker } from 'bullmq'
import { Redis } from 'ioredis'
import pg from 'pg'
import { describe, expect, it } from 'vitest'
import { z } from 'zod'
import { createOutboxRelay } from '../src/outbox-relay.ts'
import { testDatabaseClient } from './helpers.ts'
import { notifyJob, OUTBOX_TEST_QUEUE, useOutbox } from './outbox-fixture.ts'

// The transactional outbox against real Postgres (the application login, under row-level
// security) and real Redis: what commits is published once; what rolls back never is.
const fixture = useOutbox()
const { services, owner, record, unpublished } = fixture
const logger = createLogger({ service: 'worker-test', level: 'silent', pretty: false })
const QUEUE = OUTBOX_TEST_QUEUE
const notify = notifyJob
// A queue of its own, so that its worker runs only the message the test relays.
const CRASH_QUEUE = 'outbox-crash-test'
const crashJob = defineJob({ ...notify, name: 'test.crash', queue: CRASH_QUEUE })

describe('the transactional outbox', () => {
  it('records nothing for a transaction that rolls back', async () => {
    await expect(
      withTenant(fixture.db, { organizationId: fixture.orgId }, async (tx) => {
        await addToOutbox(tx, notify, { message: 'never' }, { organizationId: fixture.orgId })
        throw new Error('the change failed')
      }),
    ).rejects.toThrow('the change failed')
    const relay = createOutboxRelay({ db: fixture.db, queueFor: () => fixture.queue, logger })
    expect(await relay.tick()).toBe(0)
    expect(await owner('SELECT * FROM outbox_messages')).toEqual([])
  })

  it('refuses an invalid payload inside the transaction, failing the change', async () => {
    await expect(
      withTenant(fixture.db, { organizationId: fixture.orgId }, (tx) =>
        // @ts-expect-error: the type refuses it too
        addToOutbox(tx, notify, { message: 42 }, { organizationId: fixture.orgId }),
      ),
    ).rejects.toThrow(/invalid payload/)
  })

  it('publishes a committed message once, under the outbox row id, with its context', async () => {
    await record('hello')
    const [row] = await owner('SELECT id FROM outbox_messages WHERE published_at IS NULL')
    const relay = createOutboxRelay({ db: fixture.db, queueFor: () => fixture.queue, logger })
    expect(await relay.tick()).toBe(1)
    const job = await fixture.queue.getJob(row.id)
    expect(job?.name).toBe('test.notify')
    expect(job?.data).toEqual({
      v: 1,
      payload: { message: 'hello' },
      context: { requestId: 'r1', organizationId: fixture.orgId },
    })
    expect(job?.opts.attempts).toBe(notify.attempts)
    expect(await unpublished()).toBe(0)
    expect(await relay.tick()).toBe(0)
  })

  it("publishes a job recorded in a request's trace inside that trace, and keeps the trace out of the job", async () => {
    const tracing = registerTestTracer()
    try {
      const traceId = await tracing.tracer.startActiveSpan('request', async (span) => {
        await record('traced')
        span.end()
        return span.spanContext().traceId
      })
      const [row] = await owner('SELECT id, data FROM outbox_messages WHERE published_at IS NULL')
      expect(row.data.trace.traceparent.split('-')[1]).toBe(traceId)
      let publishedIn: string | undefined
      const relay = createOutboxRelay({
        db: fixture.db,
        queueFor: () => ({
          add: (...args: Parameters<Queue['add']>) => {
            publishedIn = trace.getSpanContext(context.active())?.traceId
            return fixture.queue.add(...args)
          },
        }),
        logger,
      })
      expect(await relay.tick()).toBe(1)
      expect(publishedIn).toBe(traceId)
      // The job holds only what a worker of the release before this one reads, strictly:
      // an unknown field there would fail the job during a rolling deploy or a rollback.
      const job = await fixture.queue.getJob(row.id)
      expect(Object.keys(job?.data ?? {}).sort()).toEqual(['context', 'payload', 'v'])
      const previousReleaseContext = z
        .object({
          organizationId: z.uuid().optional(),
          requestId: z.string().max(200).optional(),
          traceId: z.string().max(200).optional(),
        })
        .strict()
      expect(previousReleaseContext.safeParse(job?.data.context).success).toBe(true)
    } finally {
      await tracing.stop()
    }
  })

  it('loses nothing while Redis is down: the message waits, then publishes once', async () => {
    await record('during the outage')
    const down = new Redis('redis://127.0.0.1:1', {
      enableOfflineQueue: false,
      maxRetriesPerRequest: 1,
      retryStrategy: () => null,
      lazyConnect: true,
    })
    down.on('error', () => {})
    const outage = new Queue(QUEUE, { connection: down })
    outage.on('error', () => {})
    const failing = createOutboxRelay({ db: fixture.db, queueFor: () => outage, logger })
    expect(await failing.tick()).toBe(1)
    const [waiting] = await owner(
      'SELECT id, last_error, publish_attempts, claimed_until FROM outbox_messages WHERE published_at IS NULL',
    )
    expect(waiting).toMatchObject({ publish_attempts: 1 })
    expect(waiting.last_error).toBeTruthy()
    // Given back with a backoff: not claimable again at once (no spinning on an outage).
    expect(waiting.claimed_until.getTime()).toBeGreaterThan(Date.now())
    expect(await failing.tick()).toBe(0)
    await outage.close().catch(() => {})
    down.disconnect()

    await owner('UPDATE outbox_messages SET claimed_until = now() WHERE published_at IS NULL')
    const relay = createOutboxRelay({ db: fixture.db, queueFor: () => fixture.queue, logger })
    expect(await relay.tick()).toBe(1)
    expect(await fixture.queue.getJob(waiting.id)).toBeTruthy()
    expect(await unpublished()).toBe(0)
    // A published message keeps no payload (email links carry tokens).
    expect(await owner('SELECT data FROM outbox_messages WHERE id = $1', [waiting.id])).toEqual([
      { data: {} },
    ])
  })

  it('does not spin while every publish fails, and does not hang on a producer that never answers', async () => {
    await owner('DELETE FROM outbox_messages')
    for (let i = 0; i < 15; i++) await record(`stuck ${i}`)
    // When each message's publishes started (performance.now()), by outbox row id.
    const tries = new Map<string, number[]>()
    const hanging = {
      add: (_name: string, _data: unknown, opts: { jobId: string }) => {
        tries.set(opts.jobId, [...(tries.get(opts.jobId) ?? []), performance.now()])
        return new Promise(() => {}) // a queue waiting for a Redis that is not there
      },
    }
    const relay = createOutboxRelay({
      db: fixture.db,
      queueFor: () => hanging as unknown as Queue,
      logger,
      batch: 10,
      fallbackPollMs: 50,
      addTimeoutMs: 20,
    })
    relay.start()
    try {
      // Past a publish that never answers, to the next one, and the next batch: every
      // message is tried, none left stuck behind a hanging one.
      await expect.poll(() => tries.size, { timeout: 10_000 }).toBe(15)
    } finally {
      await relay.stop()
    }
    // No spinning: a message given back is not tried again before its backoff (1 s after
    // its failed try) has passed, however fast the relay polls. A lower bound only: a
    // loaded machine makes the gaps longer, never shorter.
    for (const [id, starts] of tries)
      for (let i = 1; i < starts.length; i++)
        expect((starts[i] as number) - (starts[i - 1] as number), id).toBeGreaterThanOrEqual(900)
    expect(await unpublished()).toBe(15)
    expect(
      await owner(
        'SELECT count(*)::int AS n FROM outbox_messages WHERE publish_attempts >= 1 AND last_error IS NOT NULL',
      ),
    ).toEqual([{ n: 15 }])
    await owner('DELETE FROM outbox_messages')
  })

  it('publishes each message once with two relays running at once', async () => {
    await owner(
      `INSERT INTO outbox_messages (id, organization_id, queue, job_name, data, options)
       SELECT gen_random_uuid(), $1, $2, 'test.notify', jsonb_build_object('v', 1, 'payload', jsonb_build_object('message', 'm' || g), 'context', '{}'::jsonb), '{"attempts": 5}'::jsonb
       FROM generate_series(1, 300) g`,
      [fixture.orgId, QUEUE],
    )
    const adds = new Map<string, number>()
    const byRelay = [0, 0]
    const counting = (relay: number) => ({
      add: async (name: string, data: unknown, opts: { jobId?: string }) => {
        adds.set(opts.jobId as string, (adds.get(opts.jobId as string) ?? 0) + 1)
        byRelay[relay] = (byRelay[relay] ?? 0) + 1
        return fixture.queue.add(name, data, opts)
      },
    })
    const relays = [0, 1].map((i) =>
      createOutboxRelay({
        db: fixture.db,
        queueFor: () => counting(i) as unknown as Queue,
        logger,
        batch: 20,
        fallbackPollMs: 10,
      }),
    )
    for (const relay of relays) relay.start()
    await expect.poll(unpublished, { timeout: 20_000 }).toBe(0)
    await Promise.all(relays.map((relay) => relay.stop()))
    expect(adds.size).toBe(300)
    expect([...adds.values()].every((n) => n === 1)).toBe(true)
    // Both really worked the same backlog.
    expect(byRelay[0]).toBeGreaterThan(0)
    expect(byRelay[1]).toBeGreaterThan(0)
  })

  it('publishes once when the relay dies after queueing a job and before marking it published', {
    timeout: 90_000,
  }, async () => {
    await withTenant(fixture.db, { organizationId: fixture.orgId }, (tx) =>
      addToOutbox(tx, crashJob, { message: 'crash in between' }, { organizationId: fixture.orgId }),
    )
    const [row] = await owner('SELECT id FROM outbox_messages WHERE queue = $1', [CRASH_QUEUE])
    const crashQueue = new Queue(CRASH_QUEUE, { connection: { url: services().redis.url } })
    const runs: string[] = []
    let worker: Worker | undefined
    // A relay of its own, in its own process, killed between its publish and its mark.
    const child = spawn(
      process.execPath,
      [fileURLToPath(new URL('fixtures/relay-dies-after-publishing.ts', import.meta.url))],
      {
        cwd: fileURLToPath(new URL('..', import.meta.url)),
        env: {
          PATH: process.env.PATH,
          DATABASE_URL: services().database.workerUrl,
          REDIS_URL: services().redis.url,
          LEASE_MS: '1000',
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    )
    let output = ''
    child.stdout.on('data', (chunk) => (output += chunk))
    child.stderr.on('data', (chunk) => (output += chunk))
    const exited = new Promise((resolve) => child.once('exit', (_code, signal) => resolve(signal)))
    try {
      await expect.poll(() => output, { timeout: 30_000 }).toMatch(/^published \S+\n/)
      child.kill('SIGKILL')
      expect(await exited).toBe('SIGKILL')
      // Queued (and run, below) while its outbox message still says it was never published.
      expect(
        await owner('SELECT published_at, publish_attempts FROM outbox_messages WHERE id = $1', [
          row.id,
        ]),
      ).toEqual([{ published_at: null, publish_attempts: 1 }])
      worker = new Worker(
        CRASH_QUEUE,
        async (job) => {
          runs.push(job.id as string)
        },
        { connection: { url: services().redis.url, maxRetriesPerRequest: null }, concurrency: 1 },
      )
      await expect.poll(() => runs.length, { timeout: 10_000 }).toBe(1)

      // Its lease runs out and another relay claims it and publishes it again.
      const relay = createOutboxRelay({
        db: fixture.db,
        queueFor: (name) => (name === CRASH_QUEUE ? crashQueue : fixture.queue),
        logger,
      })
      await expect.poll(() => relay.tick(), { timeout: 10_000 }).toBe(1)
      expect(
        await owner(
          'SELECT count(*)::int AS n FROM outbox_messages WHERE id = $1 AND published_at IS NOT NULL',
          [row.id],
        ),
      ).toEqual([{ n: 1 }])
      // Once the queue has nothing left to run: one job for the message, run once.
      await expect
        .poll(
          async () => {
            const counts = await crashQueue.getJobCounts(
              'waiting',
              'active',
              'delayed',
              'prioritized',
            )
            return Object.values(counts).reduce((sum, n) => sum + n, 0)
          },
          { timeout: 10_000 },
        )
        .toBe(0)
      const jobs = await crashQueue.getJobs([
        'completed',
        'failed',
        'waiting',
        'active',
        'delayed',
        'prioritized',
      ])
      expect(jobs.map((job) => job.id)).toEqual([row.id])
      expect(runs).toHaveLength(1)
    } finally {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL')
      await worker?.close()
      await crashQueue.close()
    }
  })

  it('cannot be claimed, marked or swept by the API login: only the worker relays', async () => {
    const client = new pg.Client({ connectionString: services().database.appUrl })
    await client.connect()
    try {
      for (const call of [
        'SELECT * FROM outbox_claim(10, 1000)',
        "SELECT outbox_mark_published(ARRAY['00000000-0000-4000-8000-000000000000']::uuid[])",
        "SELECT outbox_release('00000000-0000-4000-8000-000000000000', 'x')",
        'SELECT * FROM outbox_sweep(1, 1)',
      ])
        await expect(client.query(call), call).rejects.toThrow(/permission denied/)
    } finally {
      await client.end()
    }
  })

  it('is not readable by the application login', async () => {
    await record('there is something to read')
    const api = testDatabaseClient(services().database.appUrl)
    const rows = await withTenant(api, { organizationId: fixture.orgId }, (tx) =>
      tx.outboxMessage.findMany(),
    )
    await api.$disconnect()
    expect(rows).toEqual([])
  })
})

describe('the outbox sweeper', () => {
  it('deletes old published messages and counts a stuck backlog', async () => {
    const { sweepOutbox } = await import('@repo/core')
    await owner('DELETE FROM outbox_messages')
    await owner(
      `INSERT INTO outbox_messages (id, queue, job_name, data, options, created_at, published_at) VALUES
       (gen_random_uuid(), 'q', 'j', '{}', '{}', now() - interval '9 days', now() - interval '8 days'),
       (gen_random_uuid(), 'q', 'j', '{}', '{}', now() - interval '1 hour', now() - interval '1 hour'),
       (gen_random_uuid(), 'q', 'j', '{}', '{}', now() - interval '10 minutes', NULL)`,
    )
    expect(await sweepOutbox({ db: fixture.db }, { keepHours: 7 * 24, stuckSeconds: 300 })).toEqual(
      {
        deleted: 1,
        stuck: 1,
      },
    )
    expect(await owner('SELECT count(*)::int AS n FROM outbox_messages')).toEqual([{ n: 2 }])
  })
})
