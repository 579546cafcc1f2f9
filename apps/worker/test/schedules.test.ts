import { pruneAuditLog } from '@repo/core'
import type { PrismaClient } from '@repo/db'
import {
  cleanupCredentialsJob,
  enqueueJob,
  MAINTENANCE_QUEUE,
  pruneAuditLogJob,
  purgeIdempotencyKeysJob,
  SCHEDULES,
} from '@repo/jobs'
import { createLogger } from '@repo/observability'
import { useIsolatedServices } from '@repo/testing'
import { type Job, Queue, QueueEvents, type Worker } from 'bullmq'
import { Redis } from 'ioredis'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createWorker } from '../src/create-worker.ts'
import { maintenanceHandlers } from '../src/maintenance.ts'
import { registerSchedules } from '../src/schedulers.ts'
import { ownerQuery, testDatabaseClient } from './helpers.ts'

// Cron through BullMQ job schedulers, and the housekeeping they run, against real Redis
// and Postgres (the worker's own login, under row-level security).
const services = useIsolatedServices()
const logger = createLogger({ service: 'worker-test', level: 'silent', pretty: false })
let connection: Redis
let queue: Queue
let events: QueueEvents
let db: PrismaClient
let worker: Worker

const owner = (sql: string, values: unknown[] = []) =>
  ownerQuery(services().database.url, sql, values)

beforeAll(async () => {
  const { url } = services().redis
  connection = new Redis(url, { maxRetriesPerRequest: null })
  queue = new Queue(MAINTENANCE_QUEUE, { connection })
  events = new QueueEvents(MAINTENANCE_QUEUE, { connection: { url } })
  await events.waitUntilReady()
  db = testDatabaseClient(services().database.workerUrl)
  worker = createWorker({
    queue: MAINTENANCE_QUEUE,
    connection,
    concurrency: 1,
    logger,
    handlers: maintenanceHandlers(db, { auditLogRetentionDays: 365 }),
  })
})
afterAll(async () => {
  await worker?.close()
  await events?.close()
  await queue?.close()
  await db?.$disconnect()
  connection?.disconnect()
})

describe('job schedules', () => {
  it('register idempotently in UTC, and remove schedules no longer declared', async () => {
    await queue.upsertJobScheduler('retired-report', { pattern: '0 0 * * *' }, { name: 'old.job' })
    const first = await registerSchedules(queue, SCHEDULES, logger)
    expect(first.removed).toEqual(['retired-report'])
    const again = await registerSchedules(queue, SCHEDULES, logger)
    expect(again.removed).toEqual([])
    const schedulers = await queue.getJobSchedulers(0, -1)
    expect(schedulers.map((s) => s.key).sort()).toEqual(SCHEDULES.map((s) => s.id).sort())
    for (const scheduler of schedulers) {
      expect(scheduler.tz).toBe('UTC')
      expect(scheduler.next).toBeGreaterThan(Date.now())
    }
    const backup = schedulers.find((s) => s.key === 'nightly-backup')
    expect(new Date(backup?.next as number).getUTCHours()).toBe(2)
    expect(new Date(backup?.next as number).getUTCMinutes()).toBe(30)
    // One pending run per schedule, however often the worker starts.
    expect((await queue.getDelayed()).length).toBe(SCHEDULES.length)
  })
})

describe('housekeeping', () => {
  it('deletes expired sessions and tokens, and keeps live ones', async () => {
    const [user] = await owner(
      `INSERT INTO users (id, email, name, updated_at) VALUES (gen_random_uuid(), 'clean@example.com', 'C', now()) RETURNING id`,
    )
    const session = (hash: string, expires: string, absolute: string) =>
      owner(
        `INSERT INTO sessions (id, user_id, token_hash, expires_at, absolute_expires_at) VALUES (gen_random_uuid(), $1, $2, now() + $3::interval, now() + $4::interval)`,
        [user.id, hash.repeat(64), expires, absolute],
      )
    await session('a', '1 hour', '1 day') // live
    await session('b', '-1 hour', '1 day') // idle too long
    await session('c', '-2 hours', '-1 hour') // past its absolute lifetime
    await owner(
      `INSERT INTO password_resets (id, user_id, token_hash, expires_at) VALUES (gen_random_uuid(), $1, $2, now() - interval '1 minute'), (gen_random_uuid(), $1, $3, now() + interval '1 hour')`,
      [user.id, 'd'.repeat(64), 'e'.repeat(64)],
    )
    const job = (await enqueueJob(queue, cleanupCredentialsJob, {})) as Job
    expect(await job.waitUntilFinished(events, 10_000)).toEqual({
      sessions: 2,
      emailVerifications: 0,
      passwordResets: 1,
    })
    expect(await owner('SELECT token_hash FROM sessions')).toEqual([{ token_hash: 'a'.repeat(64) }])
    expect(await owner('SELECT token_hash FROM password_resets')).toEqual([
      { token_hash: 'e'.repeat(64) },
    ])
  })

  it('purges expired idempotency keys of every organization, through the app login', async () => {
    const orgs = await owner(
      `INSERT INTO organizations (id, name, updated_at) SELECT gen_random_uuid(), 'Org ' || g, now() FROM generate_series(1, 2) g RETURNING id`,
    )
    for (const [i, org] of orgs.entries()) {
      await owner(
        `INSERT INTO idempotency_keys (id, organization_id, scope_hash, request_hash, locked_until, expires_at) VALUES (gen_random_uuid(), $1, $2, $3, now(), now() - interval '1 second'), (gen_random_uuid(), $1, $4, $3, now(), now() + interval '1 hour')`,
        [org.id, `${i}`.repeat(64), 'r'.repeat(64), `${i + 5}`.repeat(64)],
      )
    }
    const job = (await enqueueJob(queue, purgeIdempotencyKeysJob, {})) as Job
    expect(await job.waitUntilFinished(events, 10_000)).toEqual({ purged: 2 })
    expect(await owner('SELECT count(*)::int AS n FROM idempotency_keys')).toEqual([{ n: 2 }])
  })

  it('prunes audit entries past their retention, and only the worker may', async () => {
    await owner(
      `INSERT INTO audit_logs (id, action, created_at) VALUES
         (gen_random_uuid(), 'test.ancient', now() - interval '400 days'),
         (gen_random_uuid(), 'test.recent', now() - interval '100 days'),
         (gen_random_uuid(), 'test.today', now())`,
    )
    const job = (await enqueueJob(queue, pruneAuditLogJob, {})) as Job
    expect(await job.waitUntilFinished(events, 10_000)).toEqual({ deleted: 1 })
    expect(
      await owner(`SELECT action FROM audit_logs WHERE action LIKE 'test.%' ORDER BY action`),
    ).toEqual([{ action: 'test.recent' }, { action: 'test.today' }])
    // The append-only rule holds for everything else: a plain DELETE, even the owner's,
    // the API's login calling the function, and a retention under 30 days.
    await expect(owner('DELETE FROM audit_logs')).rejects.toThrow(/append-only/)
    const app = testDatabaseClient(services().database.appUrl)
    try {
      await expect(pruneAuditLog({ db: app }, { keepDays: 365 })).rejects.toThrow(
        /permission denied/,
      )
    } finally {
      await app.$disconnect()
    }
    await expect(pruneAuditLog({ db }, { keepDays: 10 })).rejects.toThrow(/at least 30 days/)
  })
})
