import { randomUUID } from 'node:crypto'
import type { Project, Task, TenantTransaction } from '@repo/db'
import { type WebhookEventType, webhookEventJob } from '@repo/jobs'
import type { RequestMeta } from './context.ts'
import { addToOutbox } from './outbox.ts'

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
    await addToOutbox(
      tx,
      webhookEventJob,
      {
        eventId: `msg_${randomUUID().replaceAll('-', '')}`,
        type: event.type,
        timestamp: new Date().toISOString(),
        data: event.data,
      },
      { organizationId, meta },
    )
  }
}

/** A project as webhook payloads carry it (the API's representation). */
export const projectEventData = (p: Project) => ({
  id: p.id,
  organizationId: p.organizationId,
  name: p.name,
  description: p.description,
  status: p.status,
  version: p.version,
  createdAt: p.createdAt.toISOString(),
  updatedAt: p.updatedAt.toISOString(),
})

/** A task as webhook payloads carry it (the API's representation). */
export const taskEventData = (t: Task) => ({
  id: t.id,
  organizationId: t.organizationId,
  projectId: t.projectId,
  title: t.title,
  description: t.description,
  status: t.status,
  priority: t.priority,
  assigneeId: t.assigneeId,
  dueDate: t.dueDate ? t.dueDate.toISOString().slice(0, 10) : null,
  version: t.version,
  createdAt: t.createdAt.toISOString(),
  updatedAt: t.updatedAt.toISOString(),
})
