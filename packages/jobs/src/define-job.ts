import { z } from 'zod'

/**
 * A background job, declared once and shared by producers and the worker: its name,
 * payload version and schema, the queue it runs on and how it is retried, timed out and
 * kept. A producer cannot enqueue a payload the schema refuses; the worker validates
 * again and fails an invalid one at once, without retries.
 */
export interface JobDefinition<S extends z.ZodType = z.ZodType> {
  name: string
  /** Bumped when the payload changes incompatibly; a worker refuses other versions. */
  version: number
  queue: string
  schema: S
  attempts: number
  /** Exponential backoff with jitter (a share of the delay randomised, 0-1). */
  backoff: { type: 'exponential'; delay: number; jitter: number }
  /** A running attempt that takes longer fails (and is retried if attempts remain). */
  timeoutMs: number
  /** Finished jobs kept for inspection: completed by age (s) and count, failed by age. */
  keep: { completed: { age: number; count: number }; failed: { age: number } }
  /**
   * BullMQ priority of a job with this payload (1 is the highest): on a shared queue,
   * what a user is waiting for goes before bulk work. Unset: no priority.
   */
  priority?: (payload: z.output<S>) => number
}

type Defaults = 'attempts' | 'backoff' | 'timeoutMs' | 'keep'

const DEFAULTS: Pick<JobDefinition, Defaults> = {
  attempts: 5,
  backoff: { type: 'exponential', delay: 1_000, jitter: 0.5 },
  timeoutMs: 30_000,
  keep: { completed: { age: 24 * 3_600, count: 1_000 }, failed: { age: 7 * 24 * 3_600 } },
}

export function defineJob<S extends z.ZodType>(
  definition: Omit<JobDefinition<S>, Defaults> & Partial<Pick<JobDefinition<S>, Defaults>>,
): JobDefinition<S> {
  if (definition.name.includes(':')) throw new Error(`job name ${definition.name} contains ':'`)
  return { ...DEFAULTS, ...definition }
}

/** Who and what a job runs for, carried from the request into the worker's logs. */
export const jobContextSchema = z
  .object({
    organizationId: z.uuid().optional(),
    requestId: z.string().max(200).optional(),
    traceId: z.string().max(200).optional(),
  })
  .strict()
export type JobContext = z.infer<typeof jobContextSchema>

/** What a job's data holds: the payload version, the payload and its context. */
export interface JobEnvelope<T> {
  v: number
  payload: T
  context: JobContext
}

export class InvalidJobPayloadError extends Error {
  override name = 'InvalidJobPayloadError'
  readonly job: string
  readonly issues: string[]
  constructor(job: string, issues: string[]) {
    super(`invalid payload for job ${job}: ${issues.join('; ')}`)
    this.job = job
    this.issues = issues
  }
}

const describeIssues = (error: z.ZodError) =>
  error.issues.map((issue) => `${issue.path.join('.') || '(root)'}: ${issue.message}`)

/** The job data to enqueue; throws InvalidJobPayloadError for a payload the schema refuses. */
export function jobEnvelope<S extends z.ZodType>(
  definition: JobDefinition<S>,
  payload: z.input<S>,
  context: JobContext = {},
): JobEnvelope<z.output<S>> {
  const parsed = definition.schema.safeParse(payload)
  if (!parsed.success)
    throw new InvalidJobPayloadError(definition.name, describeIssues(parsed.error))
  const ctx = jobContextSchema.safeParse(context)
  if (!ctx.success) throw new InvalidJobPayloadError(definition.name, describeIssues(ctx.error))
  return { v: definition.version, payload: parsed.data, context: ctx.data }
}

// Built once: constructing zod schemas per job would cost more than checking them.
// The context is read leniently: a field a later release adds is dropped, not a reason
// to fail the job, so from this release on a job written by a newer API still runs on an
// older worker during a rolling deploy or after a rollback. Writing stays strict
// (jobEnvelope). Releases before this one read it strictly: a new context field must wait
// one release after this reader has shipped (docs/pipeline.md, expand and contract).
const envelopeSchema = z.object({
  v: z.number().int(),
  payload: z.unknown(),
  context: z.object(jobContextSchema.shape),
})

/** Reads a job's data in the worker: the envelope, or why it can never be processed. */
export function readJobEnvelope<S extends z.ZodType>(
  definition: JobDefinition<S>,
  data: unknown,
): { ok: true; envelope: JobEnvelope<z.output<S>> } | { ok: false; reason: string } {
  const shape = envelopeSchema.safeParse(data)
  if (!shape.success) return { ok: false, reason: describeIssues(shape.error).join('; ') }
  if (shape.data.v !== definition.version)
    return { ok: false, reason: `payload version ${shape.data.v}, expected ${definition.version}` }
  const payload = definition.schema.safeParse(shape.data.payload)
  if (!payload.success) return { ok: false, reason: describeIssues(payload.error).join('; ') }
  return {
    ok: true,
    envelope: { v: shape.data.v, payload: payload.data, context: shape.data.context },
  }
}

/** BullMQ options from the definition; `jobId` (from a business key) makes enqueueing idempotent. */
export function jobOptions<S extends z.ZodType>(
  definition: JobDefinition<S>,
  options: {
    jobId?: string
    payload?: z.output<S>
    /** Overrides the definition's priority for this job (1 is highest). */
    priority?: number
  } = {},
) {
  if (options.jobId?.includes(':')) throw new Error(`job id ${options.jobId} contains ':'`)
  const priority =
    options.priority ??
    (definition.priority && options.payload !== undefined
      ? definition.priority(options.payload)
      : undefined)
  return {
    attempts: definition.attempts,
    backoff: { ...definition.backoff },
    removeOnComplete: { ...definition.keep.completed },
    removeOnFail: { ...definition.keep.failed },
    ...(options.jobId ? { jobId: options.jobId } : {}),
    ...(priority !== undefined ? { priority } : {}),
  }
}

/** The smallest surface of a BullMQ Queue a producer needs. */
export interface JobQueue {
  add(name: string, data: unknown, options: ReturnType<typeof jobOptions>): Promise<unknown>
}

/** Validates, then enqueues. The queue must be the definition's. */
export async function enqueueJob<S extends z.ZodType>(
  queue: JobQueue & { name: string },
  definition: JobDefinition<S>,
  payload: z.input<S>,
  options: { context?: JobContext; jobId?: string } = {},
) {
  if (queue.name !== definition.queue)
    throw new Error(
      `job ${definition.name} belongs to queue ${definition.queue}, not ${queue.name}`,
    )
  const data = jobEnvelope(definition, payload, options.context)
  return queue.add(
    definition.name,
    data,
    jobOptions(definition, { ...options, payload: data.payload }),
  )
}
