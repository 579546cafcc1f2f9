import { randomUUID } from 'node:crypto'
import { Prisma, type Project, type Task, type TenantTransaction } from '@repo/db'
import { type WebhookEventType, webhookEventJob } from '@repo/jobs'
import type { RequestMeta } from './context.ts'
import { addManyToOutbox, outboxStatement } from './outbox.ts'
import { projectView } from './project-fields.ts'
import { taskView } from './task-fields.ts'

interface WebhookEventInput {
  type: WebhookEventType
  data: Record<string, unknown>
}

/**
 * Records an event for the organization's webhook endpoints, in the transaction of the
 * change: through the outbox, so it is sent exactly when the change commits. One
 * indexed look-up first: an organization with no endpoint subscribed to this type gets
 * no outbox row at all. The worker fans the event out to the endpoints subscribed when it
 * runs (packages/core/src/webhook-delivery.ts).
 */
export async function emitWebhookEvent(
  tx: TenantTransaction,
  organizationId: string,
  event: WebhookEventInput,
  meta: RequestMeta = {},
) {
  await emitWebhookEvents(tx, organizationId, [event], meta)
}

/** Several events of one change (tasks unassigned when a member leaves): one look-up per type. */
export async function emitWebhookEvents(
  tx: TenantTransaction,
  organizationId: string,
  events: WebhookEventInput[],
  meta: RequestMeta = {},
) {
  const subscribed = new Map<WebhookEventType, boolean>()
  const payloads = []
  for (const event of events) {
    let wanted = subscribed.get(event.type)
    if (wanted === undefined) {
      wanted =
        (await tx.webhookEndpoint.findFirst({
          where: { disabledAt: null, events: { has: event.type } },
          select: { id: true },
        })) !== null
      subscribed.set(event.type, wanted)
    }
    if (wanted) payloads.push(webhookPayload(event))
  }
  // One statement for all of them: a batch of a thousand unassigned tasks is one round
  // trip, which keeps the batch's transaction short however far the database is.
  await addManyToOutbox(tx, webhookEventJob, payloads, { organizationId, meta })
}

/** What a webhook event's job carries: the event, its id and when it happened. */
const webhookPayload = (event: WebhookEventInput) => ({
  eventId: `msg_${randomUUID().replaceAll('-', '')}`,
  type: event.type,
  timestamp: new Date().toISOString(),
  data: event.data,
})

/**
 * `emitWebhookEvent` as a statement for a write in one round trip (writeWithTenant): the
 * look-up of a subscribed endpoint is the insert's condition instead of a round trip of
 * its own, so an organization with none still gets no outbox row.
 */
export function webhookEventStatement(
  organizationId: string,
  event: WebhookEventInput,
  meta: RequestMeta = {},
): Prisma.Sql {
  return outboxStatement(webhookEventJob, webhookPayload(event), {
    organizationId,
    meta,
    onlyIf: Prisma.sql`EXISTS (SELECT 1 FROM webhook_endpoints
      WHERE disabled_at IS NULL AND ${event.type}::varchar = ANY (events))`,
  })
}

/** A project as webhook payloads carry it: the API's representation, and its organization. */
export const projectEventData = (p: Project) => ({
  ...projectView(p),
  organizationId: p.organizationId,
})

/** A task as webhook payloads carry it: the API's representation, and its organization. */
export const taskEventData = (t: Task) => ({ ...taskView(t), organizationId: t.organizationId })
