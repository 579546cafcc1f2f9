import { addToOutbox } from '@repo/core'
import { type PrismaClient, withTenant } from '@repo/db'
import { defineJob } from '@repo/jobs'
import { type IsolatedServices, useIsolatedServices } from '@repo/testing'
import { Queue } from 'bullmq'
import { Redis } from 'ioredis'
import { afterAll, beforeAll, beforeEach } from 'vitest'
import { z } from 'zod'
import { ownerQuery, testDatabaseClient } from './helpers.ts'

export const OUTBOX_TEST_QUEUE = 'outbox-test'
export const notifyJob = defineJob({
  name: 'test.notify',
  version: 1,
  queue: OUTBOX_TEST_QUEUE,
  schema: z.object({ message: z.string() }).strict(),
})

export interface OutboxFixture {
  services: () => IsolatedServices
  /** The worker's login (row-level security, plus the relay's functions). */
  db: PrismaClient
  /** The test queue, on a producer connection that fails fast, as the relay's does. */
  queue: Queue
  orgId: string
  /** One statement as the database's owner, for set-up and checks. */
  owner: (sql: string, values?: unknown[]) => ReturnType<typeof ownerQuery>
  /** Commits one outbox message for the test queue, as a change of the organization would. */
  record: (message: string) => Promise<void>
  /** How many messages wait to be published. */
  unpublished: () => Promise<number>
}

/**
 * Call at the top of an outbox test file: real Postgres (a database of the file's own) and
 * Redis, an organization, and the test queue. The relay claims from the whole table, so
 * every test starts from an empty outbox and an empty queue: none sees what another left
 * behind (messages still backing off, jobs), in whatever order they run.
 */
export function useOutbox(): OutboxFixture {
  const services = useIsolatedServices()
  let redis: Redis | undefined
  const fixture: OutboxFixture = {
    services,
    db: undefined as unknown as PrismaClient,
    queue: undefined as unknown as Queue,
    orgId: '',
    owner: (sql, values = []) => ownerQuery(services().database.url, sql, values),
    record: (message) =>
      withTenant(fixture.db, { organizationId: fixture.orgId }, (tx) =>
        addToOutbox(
          tx,
          notifyJob,
          { message },
          { organizationId: fixture.orgId, context: { requestId: 'r1' } },
        ),
      ),
    unpublished: async () =>
      (
        await fixture.owner(
          'SELECT count(*)::int AS n FROM outbox_messages WHERE published_at IS NULL',
        )
      )[0]?.n,
  }
  beforeAll(async () => {
    fixture.db = testDatabaseClient(services().database.workerUrl)
    redis = new Redis(services().redis.url, { enableOfflineQueue: false, maxRetriesPerRequest: 1 })
    fixture.queue = new Queue(OUTBOX_TEST_QUEUE, { connection: redis })
    await fixture.queue.waitUntilReady()
    const [org] = await fixture.owner(
      `INSERT INTO organizations (id, name, updated_at) VALUES (gen_random_uuid(), 'Outbox', now()) RETURNING id`,
    )
    fixture.orgId = org?.id
  })
  beforeEach(async () => {
    await fixture.owner('DELETE FROM outbox_messages')
    await fixture.queue.obliterate({ force: true })
  })
  afterAll(async () => {
    await fixture.queue?.close()
    redis?.disconnect()
    await fixture.db?.$disconnect()
  })
  return fixture
}
