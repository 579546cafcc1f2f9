import { createDatabaseClient, type PrismaClient, withTenant } from '@repo/db'
import { createTestDatabase, type TestDatabase } from '@repo/testing'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { emitWebhookEvents } from '../src/webhook-events.ts'
import { testDatabaseConfig } from './database-config.ts'

// A member's tasks are unassigned a thousand at a time, each with its webhook event, in
// one transaction per batch (ADR 018). One INSERT per event made a batch a thousand round
// trips: seconds on a loaded machine or a distant database, past Prisma's 5 s limit for an
// interactive transaction, after which the job failed and retried the same batch. The
// events of a change go to the outbox in one statement, counted here.
let database: TestDatabase
let owner: PrismaClient
let app: PrismaClient
let statements: string[] = []
let organizationId: string

beforeAll(async () => {
  database = await createTestDatabase()
  owner = createDatabaseClient(testDatabaseConfig(database.url))
  app = createDatabaseClient(testDatabaseConfig(database.appUrl), (sql) => statements.push(sql))
  const org = await owner.organization.create({ data: { name: 'Watched' } })
  organizationId = org.id
  await owner.webhookEndpoint.create({
    data: {
      organizationId,
      url: 'https://hooks.example.com/in',
      events: ['task.updated'],
      secret: Buffer.alloc(32, 1),
    },
  })
})

afterAll(async () => {
  await Promise.all([owner?.$disconnect(), app?.$disconnect()])
  await database?.drop()
})

const outboxInserts = () => statements.filter((sql) => /INSERT INTO .*outbox_messages/.test(sql))

describe('the webhook events of one change', () => {
  it('go to the outbox in one statement, each its own message', async () => {
    const events = Array.from({ length: 1_000 }, (_, i) => ({
      type: 'task.updated' as const,
      data: { id: `task-${i}`, organizationId },
    }))
    statements = []
    await withTenant(app, { organizationId }, (tx) =>
      emitWebhookEvents(tx, organizationId, events, { requestId: 'req-1' }),
    )
    expect(outboxInserts()).toHaveLength(1)
    const rows = await owner.outboxMessage.findMany({
      where: { organizationId },
      select: { jobName: true, data: true },
    })
    expect(rows).toHaveLength(1_000)
    const envelopes = rows.map(
      (row) =>
        row.data as {
          payload: { eventId: string; data: { id: string } }
          context: { organizationId?: string; requestId?: string }
        },
    )
    expect(new Set(rows.map((row) => row.jobName))).toEqual(new Set(['webhooks.event']))
    expect(new Set(envelopes.map((e) => e.payload.eventId)).size).toBe(1_000)
    expect(envelopes.map((e) => e.payload.data.id).sort()).toEqual(
      events.map((e) => e.data.id).sort(),
    )
    expect(envelopes.every((e) => e.context.organizationId === organizationId)).toBe(true)
    expect(envelopes.every((e) => e.context.requestId === 'req-1')).toBe(true)
  })

  it('write nothing, and send no INSERT, when no endpoint wants them', async () => {
    statements = []
    const before = await owner.outboxMessage.count()
    await withTenant(app, { organizationId }, (tx) =>
      emitWebhookEvents(tx, organizationId, [
        { type: 'project.created', data: { id: 'p-1', organizationId } },
      ]),
    )
    expect(outboxInserts()).toEqual([])
    expect(await owner.outboxMessage.count()).toBe(before)
  })
})
