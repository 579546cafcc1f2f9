import { randomBytes } from 'node:crypto'
import { decryptSecret, encryptSecret } from '@repo/auth'
import { type TenantTransaction, type WebhookDeliveryStatus, withTenant } from '@repo/db'
import { type WebhookEventType, webhookDeliveryJob } from '@repo/jobs'
import { auditActor, type OrganizationActor } from './actor.ts'
import { errors } from './app-error.ts'
import { type AuditEntry, recordAudit } from './audit.ts'
import type { CoreDeps, RequestMeta } from './context.ts'
import type { ActingMember } from './members.ts'
import { addToOutbox } from './outbox.ts'
import { NEWEST_FIRST, type PageRequest, pageQuery, toPage } from './pagination.ts'
import { type ExpectedVersion, quotaExceeded, versionMismatch } from './preconditions.ts'
import { deliveryPriority } from './webhook-priority.ts'
import { checkWebhookUrl } from './webhook-url.ts'

/** Endpoints one organization may register: each event fans out to all of them. */
export const MAX_WEBHOOK_ENDPOINTS = 20

/** A Standard Webhooks secret: `whsec_` and 32 random bytes, base64. */
const newSecret = () => `whsec_${randomBytes(32).toString('base64')}`
const seal = (key: Buffer, secret: string) =>
  Buffer.from(encryptSecret(Buffer.from(secret, 'utf8'), key))
/** The plaintext of a sealed signing secret (for the worker's signing). */
export const openWebhookSecret = (key: Buffer, sealed: Uint8Array) =>
  Buffer.from(decryptSecret(sealed, key)).toString('utf8')

export interface WebhookEndpointChanges {
  url?: string | undefined
  description?: string | undefined
  events?: WebhookEventType[] | undefined
  /** false disables deliveries; true enables them again and clears the failure count. */
  enabled?: boolean | undefined
}

/** An endpoint turned back on, or pointed elsewhere, is sent to at once. */
const closedCircuit = { failedAttemptsInRow: 0, circuitOpenUntil: null }

/** What callers may see of an endpoint: never its secrets. */
const visible = {
  id: true,
  url: true,
  description: true,
  events: true,
  consecutiveFailures: true,
  circuitOpenUntil: true,
  disabledAt: true,
  disabledReason: true,
  previousSecretExpiresAt: true,
  version: true,
  createdAt: true,
  updatedAt: true,
} as const

async function audit(
  tx: TenantTransaction,
  actor: OrganizationActor,
  action: string,
  endpointId: string,
  meta: RequestMeta,
  metadata: AuditEntry['metadata'] = {},
) {
  await recordAudit(tx, {
    action,
    organizationId: actor.organizationId,
    ...auditActor(actor),
    targetType: 'webhook_endpoint',
    targetId: endpointId,
    ipAddress: meta.ipAddress,
    metadata,
  })
}

/**
 * Registers an endpoint (admins with a verified email). Its signing secret is returned
 * once, here, and stored sealed.
 */
export async function createWebhookEndpoint(
  deps: CoreDeps,
  actor: ActingMember & { emailVerified: boolean },
  input: { url: string; description?: string | undefined; events: WebhookEventType[] },
  meta: RequestMeta = {},
) {
  if (!actor.emailVerified) throw errors.emailNotVerified('choosing where webhooks are sent')
  const url = await checkWebhookUrl(input.url, deps.webhooks)
  const secret = newSecret()
  const endpoint = await withTenant(deps.db, actor, async (tx) => {
    // Serialises creates against the limit (as projects do).
    await tx.$executeRaw`SELECT 1 FROM organizations WHERE id = ${actor.organizationId}::uuid FOR NO KEY UPDATE`
    if ((await tx.webhookEndpoint.count()) >= MAX_WEBHOOK_ENDPOINTS)
      throw quotaExceeded('webhook endpoints', MAX_WEBHOOK_ENDPOINTS)
    const created = await tx.webhookEndpoint.create({
      data: {
        organizationId: actor.organizationId,
        url,
        description: input.description ?? '',
        events: [...new Set(input.events)],
        secret: seal(deps.secretsKey, secret),
      },
      select: visible,
    })
    await audit(tx, actor, 'webhook_endpoint.created', created.id, meta, {
      url,
      events: created.events,
    })
    return created
  })
  return { endpoint, secret }
}

export async function listWebhookEndpoints(deps: CoreDeps, actor: ActingMember, page: PageRequest) {
  const query = pageQuery(page, NEWEST_FIRST)
  const rows = await withTenant(deps.db, actor, (tx) =>
    tx.webhookEndpoint.findMany({ ...query, select: visible }),
  )
  return toPage(rows, page, NEWEST_FIRST)
}

export async function getWebhookEndpoint(
  deps: CoreDeps,
  actor: ActingMember,
  input: { endpointId: string },
) {
  const endpoint = await withTenant(deps.db, actor, (tx) =>
    tx.webhookEndpoint.findUnique({ where: { id: input.endpointId }, select: visible }),
  )
  if (!endpoint) throw errors.notFound('The webhook endpoint')
  return endpoint
}

/** Throws 404 when the endpoint is not there, 412 when it moved past `expected`. */
async function missingOrMoved(tx: TenantTransaction, endpointId: string): Promise<never> {
  const current = await tx.webhookEndpoint.findUnique({
    where: { id: endpointId },
    select: { version: true },
  })
  if (!current) throw errors.notFound('The webhook endpoint')
  throw versionMismatch('The webhook endpoint', current.version)
}

/**
 * Changes an endpoint if it is still at `expectedVersion` (If-Match). A new URL redirects
 * a signed feed: it needs a verified email, like registering one, and the audit log
 * keeps the old and the new URL.
 */
export async function updateWebhookEndpoint(
  deps: CoreDeps,
  actor: ActingMember & { emailVerified: boolean },
  input: { endpointId: string; expectedVersion: ExpectedVersion; changes: WebhookEndpointChanges },
  meta: RequestMeta = {},
) {
  const { changes } = input
  // Where events go is decided by admins whose email address is verified.
  if (changes.url !== undefined && !actor.emailVerified)
    throw errors.emailNotVerified('choosing where webhooks are sent')
  const url =
    changes.url === undefined ? undefined : await checkWebhookUrl(changes.url, deps.webhooks)
  const enabling =
    changes.enabled === undefined
      ? {}
      : changes.enabled
        ? { disabledAt: null, disabledReason: null, consecutiveFailures: 0, ...closedCircuit }
        : { disabledAt: new Date(), disabledReason: 'Disabled by an administrator.' }
  return withTenant(deps.db, actor, async (tx) => {
    const before =
      url === undefined
        ? null
        : await tx.webhookEndpoint.findUnique({
            where: { id: input.endpointId },
            select: { url: true },
          })
    const [updated] = await tx.webhookEndpoint.updateManyAndReturn({
      where: {
        id: input.endpointId,
        ...(input.expectedVersion === undefined ? {} : { version: input.expectedVersion }),
      },
      data: {
        // A new address starts with a closed circuit: the old one's failures say nothing of it.
        ...(url === undefined ? {} : { url, ...closedCircuit }),
        ...(changes.description === undefined ? {} : { description: changes.description }),
        ...(changes.events === undefined ? {} : { events: [...new Set(changes.events)] }),
        ...enabling,
        version: { increment: 1 },
      },
      select: visible,
    })
    if (!updated) return missingOrMoved(tx, input.endpointId)
    await audit(tx, actor, 'webhook_endpoint.updated', updated.id, meta, {
      changed: Object.keys(changes).filter(
        (key) => changes[key as keyof WebhookEndpointChanges] !== undefined,
      ),
      ...(before && url !== undefined ? { url: { from: before.url, to: url } } : {}),
      ...(changes.enabled === undefined ? {} : { enabled: changes.enabled }),
    })
    return updated
  })
}

/** Deletes an endpoint with its delivery log; pending deliveries to it are dropped. */
export async function deleteWebhookEndpoint(
  deps: CoreDeps,
  actor: ActingMember,
  input: { endpointId: string; expectedVersion: ExpectedVersion },
  meta: RequestMeta = {},
) {
  await withTenant(deps.db, actor, async (tx) => {
    const endpoint = await tx.webhookEndpoint.findUnique({
      where: { id: input.endpointId },
      select: { url: true },
    })
    if (!endpoint) throw errors.notFound('The webhook endpoint')
    const { count } = await tx.webhookEndpoint.deleteMany({
      where: {
        id: input.endpointId,
        ...(input.expectedVersion === undefined ? {} : { version: input.expectedVersion }),
      },
    })
    if (count === 0) return missingOrMoved(tx, input.endpointId)
    await audit(tx, actor, 'webhook_endpoint.deleted', input.endpointId, meta, {
      url: endpoint.url,
    })
  })
}

/**
 * Replaces the signing secret. The previous one keeps signing beside it (two signatures
 * in `webhook-signature`) for the grace period, so receivers can switch without losing
 * deliveries. The new secret is returned once.
 *
 * A rotation drops the secret from before the previous one at once. With
 * `unlessInGrace` (an operator re-running `pnpm ops`), an endpoint whose previous secret
 * is still in its grace period is left alone: 409 `rotation_in_grace`.
 */
export async function rotateWebhookSecret(
  deps: Pick<CoreDeps, 'db' | 'secretsKey'> & {
    webhooks: Pick<CoreDeps['webhooks'], 'secretGraceMs'>
  },
  actor: OrganizationActor,
  input: { endpointId: string; unlessInGrace?: boolean },
  meta: RequestMeta = {},
) {
  const secret = newSecret()
  const endpoint = await withTenant(deps.db, actor, async (tx) => {
    const current = await tx.webhookEndpoint.findUnique({
      where: { id: input.endpointId },
      select: { secret: true, previousSecretExpiresAt: true },
    })
    if (!current) throw errors.notFound('The webhook endpoint')
    const graceEnds = current.previousSecretExpiresAt
    if (input.unlessInGrace && graceEnds && graceEnds > new Date())
      throw errors.conflict(
        'rotation_in_grace',
        `The signing secret was rotated recently: the one before it keeps signing until ${graceEnds.toISOString()}.`,
      )
    const rotated = await tx.webhookEndpoint.update({
      where: { id: input.endpointId },
      data: {
        secret: seal(deps.secretsKey, secret),
        previousSecret: current.secret,
        previousSecretExpiresAt: new Date(Date.now() + deps.webhooks.secretGraceMs),
        version: { increment: 1 },
      },
      select: visible,
    })
    await audit(tx, actor, 'webhook_endpoint.secret_rotated', rotated.id, meta)
    return rotated
  })
  return { endpoint, secret }
}

/** An endpoint's deliveries, newest first, optionally of one status. */
export async function listWebhookDeliveries(
  deps: CoreDeps,
  actor: ActingMember,
  input: PageRequest & { endpointId: string; status?: WebhookDeliveryStatus | undefined },
) {
  const query = pageQuery(input, NEWEST_FIRST)
  const rows = await withTenant(deps.db, actor, async (tx) => {
    const endpoint = await tx.webhookEndpoint.findUnique({
      where: { id: input.endpointId },
      select: { id: true },
    })
    if (!endpoint) throw errors.notFound('The webhook endpoint')
    return tx.webhookDelivery.findMany({
      ...query,
      where: {
        endpointId: input.endpointId,
        ...(input.status ? { status: input.status } : {}),
        ...query.where,
      },
    })
  })
  return toPage(rows, input, NEWEST_FIRST)
}

/** One delivery with every attempt made, oldest first. */
export async function getWebhookDelivery(
  deps: CoreDeps,
  actor: ActingMember,
  input: { endpointId: string; deliveryId: string },
) {
  const delivery = await withTenant(deps.db, actor, (tx) =>
    tx.webhookDelivery.findFirst({
      where: { id: input.deliveryId, endpointId: input.endpointId },
      include: { attempts: { orderBy: [{ startedAt: 'asc' }, { id: 'asc' }] } },
    }),
  )
  if (!delivery) throw errors.notFound('The webhook delivery')
  return delivery
}

/**
 * Sends a finished delivery again (a receiver fixed after its retries ran out, or one that
 * lost what it got): back to pending with a fresh job and a fresh attempt budget, through
 * the outbox. Its attempt log goes on. Not while it is pending, nor to a disabled endpoint.
 */
export async function redeliverWebhook(
  deps: CoreDeps,
  actor: ActingMember,
  input: { endpointId: string; deliveryId: string },
  meta: RequestMeta = {},
) {
  return withTenant(deps.db, actor, async (tx) => {
    const delivery = await tx.webhookDelivery.findFirst({
      where: { id: input.deliveryId, endpointId: input.endpointId },
      include: { endpoint: { select: { disabledAt: true } } },
    })
    if (!delivery) throw errors.notFound('The webhook delivery')
    if (delivery.endpoint.disabledAt)
      throw errors.conflict(
        'endpoint_disabled',
        'The endpoint is disabled: enable it first, then send the delivery again.',
      )
    // Only from a finished state, in one conditional update: two clicks send it once.
    const [queued] = await tx.webhookDelivery.updateManyAndReturn({
      where: { id: delivery.id, status: { not: 'pending' } },
      data: { status: 'pending', completedAt: null, queuedAt: new Date() },
    })
    if (!queued)
      throw errors.conflict('delivery_pending', 'The delivery is still being sent; wait for it.')
    await addToOutbox(
      tx,
      webhookDeliveryJob,
      { deliveryId: delivery.id },
      {
        organizationId: actor.organizationId,
        meta,
        priority: await deliveryPriority(tx, actor.organizationId),
      },
    )
    await recordAudit(tx, {
      action: 'webhook_delivery.redelivered',
      organizationId: actor.organizationId,
      actorUserId: actor.userId,
      targetType: 'webhook_delivery',
      targetId: delivery.id,
      ipAddress: meta.ipAddress,
      metadata: { endpointId: input.endpointId, previousStatus: delivery.status },
    })
    return queued
  })
}
