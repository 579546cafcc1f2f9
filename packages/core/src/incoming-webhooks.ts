import { type PrismaClient, withNoContext } from '@repo/db'
import { stripeEventJob } from '@repo/jobs'
import { addToOutbox } from './outbox.ts'

/** The part of a Stripe event this product reads (the SDK verified the rest). */
export interface StripeEventLike {
  id: string
  type: string
  created: number
  data: { object: { id?: string } & Record<string, unknown> }
}

/**
 * Stores a verified Stripe event and queues its processing, in one transaction, before
 * the webhook is acknowledged. A redelivery of the same event id stores and queues
 * nothing (unique provider + event id). Returns whether the event was new.
 */
export async function receiveStripeEvent(deps: { db: PrismaClient }, event: StripeEventLike) {
  // Stripe's events concern no organization or user of ours (yet): no context.
  return withNoContext(deps.db, async (tx) => {
    const stored = await tx.incomingWebhookEvent.createManyAndReturn({
      data: {
        provider: 'stripe',
        eventId: event.id,
        type: event.type,
        objectId: typeof event.data.object.id === 'string' ? event.data.object.id : null,
        eventCreatedAt: new Date(event.created * 1000),
        payload: event as object,
      },
      skipDuplicates: true,
    })
    const row = stored[0]
    if (!row) return { duplicate: true }
    await addToOutbox(tx, stripeEventJob, { eventRowId: row.id })
    return { duplicate: false }
  })
}

const SUBSCRIPTION_EVENTS = /^customer\.subscription\.(created|updated|deleted|paused|resumed)$/

/**
 * Applies a stored Stripe event. Safe to run twice and in any order: a subscription row
 * only moves forward in event time, so an older event arriving late changes nothing.
 */
export async function processStripeEvent(
  deps: { db: PrismaClient },
  input: { eventRowId: string },
) {
  return withNoContext(deps.db, async (tx) => {
    const event = await tx.incomingWebhookEvent.findUnique({ where: { id: input.eventRowId } })
    if (!event) return { outcome: 'missing' as const }
    if (event.processedAt) return { outcome: event.outcome ?? 'applied' }
    let outcome: 'applied' | 'stale' | 'ignored' = 'ignored'
    if (SUBSCRIPTION_EVENTS.test(event.type) && event.objectId) {
      const object = (event.payload as { data: { object: Record<string, unknown> } }).data.object
      const status = event.type.endsWith('.deleted') ? 'canceled' : String(object.status ?? '')
      const customerId = String(object.customer ?? '')
      // Insert, or update unless the row reflects a newer event. `created` has one-second
      // resolution: events of the same second apply in processing order (for exact
      // state, fetch the subscription from Stripe here, as Stripe recommends).
      const changed = await tx.$executeRaw`
        INSERT INTO stripe_subscriptions (id, customer_id, status, event_created_at, updated_at)
        VALUES (${event.objectId}, ${customerId}, ${status}, ${event.eventCreatedAt}, now())
        ON CONFLICT (id) DO UPDATE
          SET customer_id = EXCLUDED.customer_id, status = EXCLUDED.status,
              event_created_at = EXCLUDED.event_created_at, updated_at = now()
          WHERE stripe_subscriptions.event_created_at <= EXCLUDED.event_created_at`
      outcome = changed === 1 ? 'applied' : 'stale'
    }
    await tx.incomingWebhookEvent.update({
      where: { id: event.id },
      data: { processedAt: new Date(), outcome },
    })
    return { outcome }
  })
}
