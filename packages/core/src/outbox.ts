import { context, propagation } from '@opentelemetry/api'
import { Prisma, type PrismaClient, type TenantTransaction } from '@repo/db'
import { type JobContext, type JobDefinition, jobEnvelope, jobOptions } from '@repo/jobs'
import type { z } from 'zod'
import { newId } from './ids.ts'

/**
 * Transactional outbox. `addToOutbox` records a job in the caller's transaction, so the
 * job exists exactly when the change does: a rollback leaves nothing to send, and a Redis
 * outage at commit time loses nothing. The worker's relay publishes it afterwards, with
 * the outbox row's id as the BullMQ job id.
 */
export async function addToOutbox<S extends z.ZodType>(
  tx: TenantTransaction,
  definition: JobDefinition<S>,
  payload: z.input<S>,
  options: OutboxOptions = {},
) {
  await addManyToOutbox(tx, definition, [payload], options)
}

export interface OutboxOptions {
  organizationId?: string | undefined
  context?: JobContext
  /** The request that made the change: its id goes into the job's logs. */
  meta?: { requestId?: string | undefined }
  /** This job's priority (1 is highest), instead of the definition's. */
  priority?: number
}

/**
 * `addToOutbox` for several jobs of one definition, in one statement: a batch of a
 * thousand events is one round trip, not a thousand, so it fits its transaction's time
 * however far the database is.
 */
export async function addManyToOutbox<S extends z.ZodType>(
  tx: TenantTransaction,
  definition: JobDefinition<S>,
  payloads: z.input<S>[],
  options: OutboxOptions = {},
) {
  if (payloads.length === 0) return
  const trace = traceContext()
  await tx.outboxMessage.createMany({
    data: payloads.map((payload) => outboxRow(definition, payload, options, trace)),
  })
}

/**
 * The outbox row of one job, as `addManyToOutbox` inserts it: the job's envelope
 * (validated now, in the transaction: an invalid payload fails the change, not the
 * relay), the request's trace beside it, and the definition's options.
 */
function outboxRow<S extends z.ZodType>(
  definition: JobDefinition<S>,
  payload: z.input<S>,
  options: OutboxOptions,
  trace = traceContext(),
) {
  const context = {
    ...options.context,
    ...(options.meta?.requestId ? { requestId: options.meta.requestId.slice(0, 200) } : {}),
    ...(options.organizationId ? { organizationId: options.organizationId } : {}),
  }
  // The request's trace rides beside the envelope, not inside its context: the relay
  // reads it and leaves it out of the job, so no worker, of this release or an older one,
  // ever sees a field it does not know.
  const data = jobEnvelope(definition, payload, context)
  return {
    organizationId: options.organizationId ?? null,
    queue: definition.queue,
    jobName: definition.name,
    data: (Object.keys(trace).length > 0 ? { ...data, trace } : data) as object,
    options: jobOptions(definition, {
      payload: data.payload,
      ...(options.priority !== undefined ? { priority: options.priority } : {}),
    }),
  }
}

/**
 * `addToOutbox` as a statement for a write in one round trip (writeWithTenant): the same
 * row, inserted only if `onlyIf` (a boolean SQL expression) holds when it runs, so a
 * condition that withTenant would read first costs no round trip of its own.
 */
export function outboxStatement<S extends z.ZodType>(
  definition: JobDefinition<S>,
  payload: z.input<S>,
  options: OutboxOptions & { onlyIf?: Prisma.Sql } = {},
): Prisma.Sql {
  const row = outboxRow(definition, payload, options)
  return Prisma.sql`
    INSERT INTO outbox_messages (id, organization_id, queue, job_name, data, options, created_at)
    SELECT ${newId()}::uuid, ${row.organizationId}::uuid, ${row.queue}, ${row.jobName},
      ${JSON.stringify(row.data)}::jsonb, ${JSON.stringify(row.options)}::jsonb,
      ${new Date().toISOString()}::timestamptz
    WHERE ${options.onlyIf ?? Prisma.sql`true`}`
}

/**
 * The active trace's W3C context (traceparent, tracestate), stored with the outbox row so
 * the relay publishes the job inside the request's trace and the worker's processing
 * continues it (ADR 032). Empty while tracing is off: the default propagator injects
 * nothing.
 */
function traceContext(): { traceparent?: string; tracestate?: string } {
  const carrier: Record<string, string> = {}
  propagation.inject(context.active(), carrier)
  return {
    ...(carrier.traceparent ? { traceparent: carrier.traceparent } : {}),
    ...(carrier.tracestate ? { tracestate: carrier.tracestate.slice(0, 512) } : {}),
  }
}

export interface OutboxMessage {
  id: string
  queue: string
  job_name: string
  data: unknown
  options: Record<string, unknown>
}

/** Claims up to `batch` unpublished messages for `leaseMs` (no other relay takes them). */
export function claimOutbox(deps: { db: PrismaClient }, batch: number, leaseMs: number) {
  return deps.db.$queryRaw<OutboxMessage[]>`
    SELECT id, queue, job_name, data, options FROM outbox_claim(${batch}::int, ${leaseMs}::int)`
}

export async function markOutboxPublished(deps: { db: PrismaClient }, ids: string[]) {
  if (ids.length === 0) return 0
  const [row] = await deps.db.$queryRaw<[{ n: number }]>`
    SELECT outbox_mark_published(${ids}::uuid[]) AS n`
  return row?.n ?? 0
}

export async function releaseOutbox(deps: { db: PrismaClient }, id: string, error: string) {
  await deps.db.$queryRaw`SELECT outbox_release(${id}::uuid, ${error})`
}

/** Deletes published messages older than `keepHours`; counts those stuck unpublished. */
export async function sweepOutbox(
  deps: { db: PrismaClient },
  options: { keepHours: number; stuckSeconds: number },
) {
  const [row] = await deps.db.$queryRaw<[{ deleted: number; stuck: number }]>`
    SELECT deleted, stuck FROM outbox_sweep(${options.keepHours}::int, ${options.stuckSeconds}::int)`
  return { deleted: row?.deleted ?? 0, stuck: row?.stuck ?? 0 }
}

/** How many messages wait to be relayed, and how old the oldest is (0 when none). */
export async function outboxStats(deps: { db: PrismaClient }) {
  const [row] = await deps.db.$queryRaw<[{ backlog: number; oldest_age_seconds: number }]>`
    SELECT backlog, oldest_age_seconds FROM outbox_stats()`
  return { backlog: row?.backlog ?? 0, oldestAgeSeconds: row?.oldest_age_seconds ?? 0 }
}
