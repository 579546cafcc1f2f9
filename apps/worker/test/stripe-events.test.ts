import { processStripeEvent, receiveStripeEvent } from '@repo/core'
import type { PrismaClient } from '@repo/db'
import { useIsolatedServices } from '@repo/testing'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ownerQuery, testDatabaseClient } from './helpers.ts'

// Processing stored Stripe events, against real Postgres: in any order, any number of
// times, the subscription ends as the newest event says.
const services = useIsolatedServices()
let db: PrismaClient

const owner = (sql: string, values: unknown[] = []) =>
  ownerQuery(services().database.url, sql, values)

beforeAll(() => {
  db = testDatabaseClient(services().database.workerUrl)
})
afterAll(() => db?.$disconnect())

const subscriptionEvent = (id: string, created: number, status: string, type = 'updated') => ({
  id,
  type: `customer.subscription.${type}`,
  created,
  data: { object: { id: 'sub_order', customer: 'cus_9', status } as Record<string, unknown> },
})

async function receive(event: ReturnType<typeof subscriptionEvent>) {
  await receiveStripeEvent({ db }, event)
  const [row] = await owner('SELECT id FROM incoming_webhook_events WHERE event_id = $1', [
    event.id,
  ])
  return row.id as string
}

describe('processing Stripe events', () => {
  it('keeps the newest state when events arrive out of order, and is safe to repeat', async () => {
    const newer = await receive(subscriptionEvent('evt_new', 2_000, 'past_due'))
    const older = await receive(subscriptionEvent('evt_old', 1_000, 'active'))
    expect(await processStripeEvent({ db }, { eventRowId: newer })).toEqual({ outcome: 'applied' })
    expect(await processStripeEvent({ db }, { eventRowId: older })).toEqual({ outcome: 'stale' })
    expect(await processStripeEvent({ db }, { eventRowId: newer })).toEqual({ outcome: 'applied' })
    // Only this test's subscription: others in the file write their own.
    const ours = "SELECT status, customer_id FROM stripe_subscriptions WHERE id = 'sub_order'"
    expect(await owner(ours)).toEqual([{ status: 'past_due', customer_id: 'cus_9' }])
    const deleted = await receive(subscriptionEvent('evt_del', 3_000, 'active', 'deleted'))
    await processStripeEvent({ db }, { eventRowId: deleted })
    expect(await owner(ours)).toEqual([{ status: 'canceled', customer_id: 'cus_9' }])
  })

  it('marks event types it does not handle as ignored, and a missing row as missing', async () => {
    await receiveStripeEvent(
      { db },
      { id: 'evt_inv', type: 'invoice.paid', created: 5, data: { object: { id: 'in_1' } } },
    )
    const [row] = await owner("SELECT id FROM incoming_webhook_events WHERE event_id = 'evt_inv'")
    expect(await processStripeEvent({ db }, { eventRowId: row.id })).toEqual({ outcome: 'ignored' })
    expect(
      await processStripeEvent({ db }, { eventRowId: '00000000-0000-4000-8000-000000000000' }),
    ).toEqual({ outcome: 'missing' })
  })
})

describe('events of the same second', () => {
  it('apply in processing order, so created-then-updated ends as updated', async () => {
    const created = await receive({
      ...subscriptionEvent('evt_c', 9_000, 'incomplete', 'created'),
      data: { object: { id: 'sub_same', customer: 'cus_1', status: 'incomplete' } },
    })
    const updated = await receive({
      ...subscriptionEvent('evt_u', 9_000, 'active'),
      data: { object: { id: 'sub_same', customer: 'cus_1', status: 'active' } },
    })
    await processStripeEvent({ db }, { eventRowId: created })
    expect(await processStripeEvent({ db }, { eventRowId: updated })).toEqual({
      outcome: 'applied',
    })
    expect(await owner("SELECT status FROM stripe_subscriptions WHERE id = 'sub_same'")).toEqual([
      { status: 'active' },
    ])
  })
})
