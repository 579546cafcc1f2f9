import { type PrismaClient, type TenantTransaction, withTenant } from '@repo/db'
import { emailJob, type JobDefinition, type WebhookEvent, webhookDeliveryJob } from '@repo/jobs'
import { addToOutbox } from './outbox.ts'
import { type NameResolver, type PostResult, postWebhook } from './post-webhook.ts'
import {
  CIRCUIT_DEFAULTS,
  type CircuitSettings,
  circuitCooldownMs,
  circuitOpenMessage,
} from './webhook-circuit.ts'
import { deliveryPriority } from './webhook-priority.ts'
import { signedHeaders } from './webhook-signature.ts'
import type { TargetPolicy } from './webhook-url.ts'

/** What the worker's webhook handlers need, the SSRF guard's policy (`TargetPolicy`) included. */
export interface WebhookDeliveryDeps extends TargetPolicy {
  db: PrismaClient
  /** The key of secrets at rest: it opens the endpoints' signing secrets. */
  secretsKey: Buffer
  /** Resolves endpoint host names: DNS unless given (tests answer for names they own). */
  resolve?: NameResolver | undefined
  /** One attempt's limit: connect, send, and the answer's head and first bytes. */
  timeoutMs: number
  /** Deliveries in a row that failed every attempt before the endpoint is disabled. */
  disableAfterFailures: number
  /** The web app's URL, for the link in the "endpoint disabled" email. */
  appUrl: string
  /** The delivery job's definition (tests shorten its backoff). */
  deliveryJob?: JobDefinition<typeof webhookDeliveryJob.schema>
  /** When a failing endpoint's circuit opens and how long it stays open (CIRCUIT_DEFAULTS). */
  circuit?: CircuitSettings
  /**
   * Delivery slots shared by every worker, per organization and per endpoint. Without
   * them only the worker's own concurrency bounds a tenant.
   */
  slots?: DeliverySlots
}

/**
 * Bounds how many attempts run at once for one organization and for one endpoint, across
 * every worker: a tenant whose endpoints hang holds at most its own share of the slots.
 */
export interface DeliverySlots {
  /** A slot of the organization's or the endpoint's for one attempt, or null when none is free. */
  acquire(kind: 'organization' | 'endpoint', id: string): Promise<(() => Promise<void>) | null>
}

/**
 * Fans an event out: one delivery row per endpoint subscribed to its type (and enabled)
 * now, and one delivery job each through the outbox, in one transaction. The unique
 * (endpoint, event) makes a rerun of this job add nothing: each endpoint gets the event
 * once. Returns the ids of the deliveries it created.
 */
export async function fanOutWebhookEvent(
  deps: Pick<WebhookDeliveryDeps, 'db' | 'deliveryJob'>,
  organizationId: string,
  event: WebhookEvent,
  meta: { requestId?: string | undefined } = {},
) {
  return withTenant(deps.db, { organizationId }, async (tx) => {
    const endpoints = await tx.webhookEndpoint.findMany({
      where: { disabledAt: null, events: { has: event.type } },
      select: { id: true },
    })
    if (endpoints.length === 0) return []
    const priority = await deliveryPriority(tx, organizationId)
    const created = await tx.webhookDelivery.createManyAndReturn({
      data: endpoints.map((endpoint) => ({
        organizationId,
        endpointId: endpoint.id,
        eventId: event.eventId,
        eventType: event.type,
        payload: { type: event.type, timestamp: event.timestamp, data: event.data } as object,
      })),
      skipDuplicates: true,
      select: { id: true },
    })
    for (const delivery of created)
      await addToOutbox(
        tx,
        deps.deliveryJob ?? webhookDeliveryJob,
        { deliveryId: delivery.id },
        { organizationId, meta, priority },
      )
    return created.map((delivery) => delivery.id)
  })
}

export type DeliveryOutcome =
  | { outcome: 'succeeded'; status: number }
  | {
      outcome: 'failed'
      error: string
      final: boolean
      disabledEndpoint: boolean
      /** Not sent: the endpoint's circuit is open. */
      heldBack: boolean
    }
  | { outcome: 'missing' | 'finished' | 'canceled' }
  /** Nothing happened: no delivery slot was free. Run it again shortly, as the same attempt. */
  | { outcome: 'busy' }

/**
 * One attempt of one delivery: signs the stored payload per Standard Webhooks (with the
 * previous secret too during a rotation's grace period), POSTs it, and records the
 * attempt. While the endpoint's circuit is open the attempt is recorded as held back,
 * without sending; without a free delivery slot nothing happens ('busy'). A failure on
 * the last attempt marks the delivery failed and counts against the endpoint; at the
 * limit the endpoint is disabled and the organization's admins are emailed, in the same
 * transaction. The caller retries a non-final failure.
 */
export async function deliverWebhook(
  deps: WebhookDeliveryDeps,
  input: DeliveryInput,
): Promise<DeliveryOutcome> {
  if (!deps.slots) return attemptDelivery(deps, input)
  // The organization's slot first, before any database work: a tenant with every slot
  // busy costs a deferred job one Redis round trip, however large its backlog.
  const release = await deps.slots.acquire('organization', input.organizationId)
  if (!release) return { outcome: 'busy' }
  try {
    return await attemptDelivery(deps, input)
  } finally {
    await release()
  }
}

interface DeliveryInput {
  organizationId: string
  deliveryId: string
  final: boolean
  signal?: AbortSignal
  /** The request that caused the event, sent as X-Request-Id. */
  requestId?: string
}

async function attemptDelivery(
  deps: WebhookDeliveryDeps,
  input: DeliveryInput,
): Promise<DeliveryOutcome> {
  const { organizationId, deliveryId } = input
  const loaded = await withTenant(deps.db, { organizationId }, async (tx) => {
    const delivery = await tx.webhookDelivery.findUnique({
      where: { id: deliveryId },
      include: { endpoint: true },
    })
    if (!delivery) return { outcome: 'missing' } as const
    if (delivery.status !== 'pending') return { outcome: 'finished' } as const
    if (delivery.endpoint.disabledAt) {
      await tx.webhookDelivery.update({
        where: { id: deliveryId },
        data: { status: 'canceled', completedAt: new Date() },
      })
      return { outcome: 'canceled' } as const
    }
    return { outcome: 'ready', delivery } as const
  })
  if (loaded.outcome !== 'ready') return loaded
  const { delivery } = loaded
  const { endpoint } = delivery

  const circuit = deps.circuit ?? CIRCUIT_DEFAULTS
  const openUntil = endpoint.circuitOpenUntil
  const heldBack = (): PostResult & { heldBack: true } => ({
    error: circuitOpenMessage(endpoint.failedAttemptsInRow, openUntil ?? new Date()),
    heldBack: true,
  })
  const body = JSON.stringify(delivery.payload)
  const sentAt = new Date()
  const started = performance.now()
  let result: PostResult & { heldBack?: true }
  if (openUntil && openUntil > sentAt) {
    // The circuit is open: record the attempt without sending, no slot, no waiting.
    result = heldBack()
  } else {
    const release = deps.slots ? await deps.slots.acquire('endpoint', endpoint.id) : null
    if (deps.slots && !release) return { outcome: 'busy' }
    try {
      // Half-open: one attempt, the one that moves the deadline, probes; the rest wait.
      const probing =
        !openUntil ||
        (await claimProbe(deps, organizationId, endpoint.id, openUntil, deps.timeoutMs))
      result = probing
        ? await postWebhook(
            endpoint.url,
            body,
            {
              ...signedHeaders(deps, endpoint, delivery.eventId, body, sentAt),
              ...(input.requestId ? { 'x-request-id': input.requestId } : {}),
            },
            {
              timeoutMs: deps.timeoutMs,
              allowPrivateTargets: deps.allowPrivateTargets,
              allowedPrivateTargets: deps.allowedPrivateTargets,
              resolve: deps.resolve,
              ...(input.signal ? { signal: input.signal } : {}),
            },
          )
        : heldBack()
    } finally {
      await release?.()
    }
  }
  const durationMs = Math.round(performance.now() - started)
  const succeeded = result.status !== undefined && result.status >= 200 && result.status < 300
  const error = succeeded
    ? null
    : (result.error ??
      (result.status !== undefined && result.status >= 300 && result.status < 400
        ? `answered ${result.status}: redirects are not followed`
        : `answered ${result.status}`))

  const record = () =>
    withTenant(deps.db, { organizationId }, async (tx): Promise<DeliveryOutcome> => {
      const done = succeeded || input.final
      // The attempt's number comes from the counter itself: overlapping runs cannot share one.
      const [counted] = await tx.webhookDelivery.updateManyAndReturn({
        // Still pending: a second run of the same job (a stall) does not rewrite an outcome.
        where: { id: deliveryId, status: 'pending' },
        data: {
          attemptCount: { increment: 1 },
          lastAttemptAt: sentAt,
          ...(done ? { status: succeeded ? 'succeeded' : 'failed', completedAt: new Date() } : {}),
        },
        select: { attemptCount: true },
      })
      if (!counted) {
        // Deleted with its endpoint while the request was out, or ended meanwhile.
        const still = await tx.webhookDelivery.findUnique({
          where: { id: deliveryId },
          select: { id: true },
        })
        return { outcome: still ? 'finished' : 'missing' }
      }
      await tx.webhookDeliveryAttempt.create({
        data: {
          organizationId,
          deliveryId,
          attempt: counted.attemptCount,
          startedAt: sentAt,
          durationMs,
          responseStatus: result.status ?? null,
          responseBody: result.body === undefined ? null : storable(result.body),
          error: error === null ? null : storable(error).slice(0, 1000),
          succeeded,
        },
      })
      if (succeeded) return afterSuccess(tx, endpoint.id, result.status as number)
      // Only attempts that were sent count towards (and lengthen) the circuit's pause.
      if (!result.heldBack) await countFailedAttempt(tx, endpoint.id, circuit)
      return afterFailure(deps, tx, {
        organizationId,
        endpoint,
        final: input.final,
        error,
        heldBack: result.heldBack === true,
      })
    })
  try {
    return await record()
  } catch (err) {
    // Recording failed (the database, most likely). A failure with attempts left is simply
    // retried. Otherwise end the delivery with its real outcome in a smaller transaction,
    // so a delivered event is not sent again and a failed one does not stay pending.
    if (!succeeded && !input.final) throw err
    const ended = await withTenant(deps.db, { organizationId }, async (tx) => {
      const { count } = await tx.webhookDelivery.updateMany({
        where: { id: deliveryId, status: 'pending' },
        data: {
          status: succeeded ? 'succeeded' : 'failed',
          completedAt: new Date(),
          lastAttemptAt: sentAt,
          attemptCount: { increment: 1 },
        },
      })
      if (count === 1 && !succeeded)
        await tx.webhookEndpoint.updateMany({
          where: { id: endpoint.id },
          data: { consecutiveFailures: { increment: 1 } },
        })
      return count === 1
    }).catch(() => false)
    // Delivered and ended: nothing for an operator to do. Otherwise fail loudly (a dead letter).
    if (ended && succeeded) return { outcome: 'succeeded', status: result.status as number }
    throw err
  }
}

/**
 * Takes the half-open circuit's one probe: moves the endpoint's deadline on by one
 * attempt's length, only if nobody else has moved it since it was read. A worker that
 * dies while probing leaves a deadline that lapses on its own.
 */
async function claimProbe(
  deps: Pick<WebhookDeliveryDeps, 'db'>,
  organizationId: string,
  endpointId: string,
  openUntil: Date,
  timeoutMs: number,
) {
  const { count } = await withTenant(deps.db, { organizationId }, (tx) =>
    tx.webhookEndpoint.updateMany({
      where: { id: endpointId, circuitOpenUntil: openUntil },
      data: { circuitOpenUntil: new Date(Date.now() + timeoutMs + PROBE_MARGIN_MS) },
    }),
  )
  return count === 1
}
const PROBE_MARGIN_MS = 5_000

/** Postgres text cannot hold NUL: an endpoint's answer may (binary, compressed, hostile). */
const storable = (text: string) => text.replaceAll('\u0000', '\uFFFD')

async function afterSuccess(
  tx: TenantTransaction,
  endpointId: string,
  status: number,
): Promise<DeliveryOutcome> {
  // Any success closes the circuit and clears both counters.
  await tx.webhookEndpoint.updateMany({
    where: {
      id: endpointId,
      OR: [
        { consecutiveFailures: { gt: 0 } },
        { failedAttemptsInRow: { gt: 0 } },
        { circuitOpenUntil: { not: null } },
      ],
    },
    data: { consecutiveFailures: 0, failedAttemptsInRow: 0, circuitOpenUntil: null },
  })
  return { outcome: 'succeeded', status }
}

/**
 * Counts a failed attempt against the endpoint; from the circuit's threshold on, each one
 * opens the circuit for a cool-down that doubles with every further failure (a failed probe).
 */
async function countFailedAttempt(
  tx: TenantTransaction,
  endpointId: string,
  circuit: CircuitSettings,
) {
  const [counted] = await tx.webhookEndpoint.updateManyAndReturn({
    where: { id: endpointId },
    data: { failedAttemptsInRow: { increment: 1 } },
    select: { failedAttemptsInRow: true },
  })
  const cooldownMs = counted ? circuitCooldownMs(circuit, counted.failedAttemptsInRow) : null
  if (cooldownMs !== null)
    await tx.webhookEndpoint.updateMany({
      where: { id: endpointId },
      data: { circuitOpenUntil: new Date(Date.now() + cooldownMs) },
    })
}

async function afterFailure(
  deps: WebhookDeliveryDeps,
  tx: TenantTransaction,
  input: {
    organizationId: string
    endpoint: { id: string; url: string }
    final: boolean
    error: string | null
    heldBack: boolean
  },
): Promise<DeliveryOutcome> {
  const { organizationId, endpoint } = input
  let disabledEndpoint = false
  if (input.final) {
    await tx.webhookEndpoint.updateMany({
      where: { id: endpoint.id },
      data: { consecutiveFailures: { increment: 1 } },
    })
    // Only the delivery that crosses the limit disables it (and sends the emails once).
    const { count } = await tx.webhookEndpoint.updateMany({
      where: {
        id: endpoint.id,
        disabledAt: null,
        consecutiveFailures: { gte: deps.disableAfterFailures },
      },
      data: {
        disabledAt: new Date(),
        disabledReason: `${deps.disableAfterFailures} deliveries in a row failed.`,
        version: { increment: 1 },
      },
    })
    if (count === 1) {
      disabledEndpoint = true
      await emailAdminsAboutDisabledEndpoint(deps, tx, {
        organizationId,
        endpointId: endpoint.id,
        endpointUrl: endpoint.url,
      })
    }
  }
  return {
    outcome: 'failed',
    error: input.error ?? 'failed',
    final: input.final,
    disabledEndpoint,
    heldBack: input.heldBack,
  }
}

async function emailAdminsAboutDisabledEndpoint(
  deps: WebhookDeliveryDeps,
  tx: TenantTransaction,
  input: { organizationId: string; endpointId: string; endpointUrl: string },
) {
  const organization = await tx.organization.findUnique({
    where: { id: input.organizationId },
    select: { name: true },
  })
  const admins = await tx.membership.findMany({
    // Not one being removed: their access has ended.
    where: { role: { in: ['owner', 'admin'] }, removalRequestedAt: null },
    select: { user: { select: { email: true, name: true } } },
  })
  const url = new URL(
    `/orgs/${input.organizationId}/settings/webhooks/${input.endpointId}`,
    deps.appUrl,
  ).toString()
  for (const { user } of admins)
    await addToOutbox(
      tx,
      emailJob,
      {
        template: 'webhook-endpoint-disabled',
        to: user.email,
        name: user.name.slice(0, 100),
        url,
        organizationName: (organization?.name ?? 'your organization').slice(0, 100),
        endpointUrl: input.endpointUrl,
        failures: deps.disableAfterFailures,
      },
      { organizationId: input.organizationId },
    )
}

/**
 * Keeps the delivery log bounded: deletes finished deliveries older than `keepDays` and
 * marks deliveries still pending after `stuckHours` failed (their job was lost). Runs
 * across organizations through a definer function granted only to the worker's login.
 */
export async function sweepWebhookDeliveries(
  deps: { db: PrismaClient },
  options: { keepDays: number; stuckHours: number },
) {
  const [row] = await deps.db.$queryRaw<[{ deleted: number; expired: number }]>`
    SELECT deleted, expired FROM webhook_deliveries_sweep(${options.keepDays}::int, ${options.stuckHours}::int)`
  return { deleted: row?.deleted ?? 0, expired: row?.expired ?? 0 }
}
