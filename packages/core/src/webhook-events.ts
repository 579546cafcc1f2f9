import { randomUUID } from 'node:crypto'
import type { Project, Task, TenantTransaction } from '@repo/db'
import { type WebhookEventType, webhookEventJob } from '@repo/jobs'
import type { RequestMeta } from './context.ts'
import { addManyToOutbox } from './outbox.ts'
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
    if (!wanted) continue
    payloads.push({
      eventId: `msg_${randomUUID().replaceAll('-', '')}`,
      type: event.type,
      timestamp: new Date().toISOString(),
      data: event.data,
    })
  }
  // One statement for all of them: a batch of a thousand unassigned tasks is one round
  // trip, which keeps the batch's transaction short however far the database is.
  await addManyToOutbox(tx, webhookEventJob, payloads, { organizationId, meta })
}

/** A project as webhook payloads carry it: the API's representation, and its organization. */
export const projectEventData = (p: Project) => ({
  ...projectView(p),
  organizationId: p.organizationId,
})

/** A task as webhook payloads carry it: the API's representation, and its organization. */
export const taskEventData = (t: Task) => ({ ...taskView(t), organizationId: t.organizationId })
