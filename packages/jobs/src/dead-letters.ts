import { type ConnectionOptions, type Job, Queue } from 'bullmq'

/**
 * Dead letters: jobs that used up their attempts, or could never succeed, kept with what
 * is needed to understand and replay them. A BullMQ queue that no worker consumes, so
 * entries stay until an operator replays or purges them (`pnpm jobs dlq`, the admin API).
 */
export const DEAD_LETTER_QUEUE = 'dead-letter'

export interface DeadLetter {
  /** The dead-letter entry's id: `<queue>-<job id>`. */
  id: string
  queue: string
  jobId: string
  name: string
  data: unknown
  /** The last error, its stack, and the stacks of every earlier attempt. */
  error: string
  stack: string | null
  attempts: Array<{ attempt: number; stack: string }>
  attemptsMade: number
  /** The job's own options (attempts, backoff, retention), for a replay with a fresh budget. */
  options: {
    attempts?: number
    backoff?: unknown
    removeOnComplete?: unknown
    removeOnFail?: unknown
  }
  failedAt: string
  firstEnqueuedAt: string
}

export type DeadLetterQueue = Queue<Omit<DeadLetter, 'id'>>

export function openDeadLetters(connection: ConnectionOptions, prefix?: string): DeadLetterQueue {
  return new Queue(DEAD_LETTER_QUEUE, { connection, ...(prefix ? { prefix } : {}) })
}

/** Files a job that has failed for good. Idempotent: the entry id derives from the job. */
export async function fileDeadLetter(
  deadLetters: DeadLetterQueue,
  queue: string,
  job: Job,
  error: Error,
): Promise<{ id: string; filed: boolean; total: number }> {
  const id = `${queue}-${job.id}`
  const earlier = job.stacktrace ?? []
  const entry: Omit<DeadLetter, 'id'> = {
    queue,
    jobId: String(job.id),
    name: job.name,
    data: job.data,
    error: error.message,
    stack: error.stack ?? null,
    attempts: [...earlier, error.stack ?? error.message].map((stack, i) => ({
      attempt: i + 1,
      stack,
    })),
    attemptsMade: job.attemptsMade + 1,
    options: {
      ...(job.opts.attempts === undefined ? {} : { attempts: job.opts.attempts }),
      ...(job.opts.backoff === undefined ? {} : { backoff: job.opts.backoff }),
      ...(job.opts.removeOnComplete === undefined
        ? {}
        : { removeOnComplete: job.opts.removeOnComplete }),
      ...(job.opts.removeOnFail === undefined ? {} : { removeOnFail: job.opts.removeOnFail }),
    },
    failedAt: new Date().toISOString(),
    firstEnqueuedAt: new Date(job.timestamp).toISOString(),
  }
  const filed = !(await deadLetters.getJob(id))
  if (filed) await deadLetters.add(job.name, entry, { jobId: id, removeOnComplete: false })
  return { id, filed, total: await deadLetters.count() }
}

/**
 * Job data as operators may see it (dead letters, the queue dashboard): single-use links
 * (email payloads) are secrets, shown as `token=[redacted]`.
 */
export function redactJobData(value: unknown): unknown {
  if (typeof value === 'string') return value.replace(/([?&]token=)[^&\s"]+/g, '$1[redacted]')
  if (Array.isArray(value)) return value.map(redactJobData)
  if (value && typeof value === 'object')
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, redactJobData(v)]))
  return value
}

/** What operators see (list, show): the entry with secrets redacted. Replays use the original. */
const toDeadLetter = (job: Job<Omit<DeadLetter, 'id'>>): DeadLetter => ({
  id: String(job.id),
  ...job.data,
  data: redactJobData(job.data.data),
})

/** Newest first, `limit` at a time from `offset`. */
export async function listDeadLetters(deadLetters: DeadLetterQueue, offset = 0, limit = 20) {
  const jobs = await deadLetters.getJobs(['waiting'], offset, offset + limit - 1, false)
  return { data: jobs.filter(Boolean).map(toDeadLetter), total: await deadLetters.count() }
}

export async function getDeadLetter(deadLetters: DeadLetterQueue, id: string) {
  const job = await deadLetters.getJob(id)
  return job ? toDeadLetter(job) : null
}

/**
 * Puts the job back on its queue with a fresh attempt budget and its original id (so
 * handlers that record their effects by job id still recognise it; give jobs business-key
 * ids), then removes the entry. Returns false if there is no such entry.
 */
export async function replayDeadLetter(
  deadLetters: DeadLetterQueue,
  id: string,
  queueFor: (name: string) => Queue,
): Promise<boolean> {
  const entry = await deadLetters.getJob(id)
  if (!entry) return false
  const { queue: queueName, jobId, name, data, options } = entry.data
  const queue = queueFor(queueName)
  const original = await queue.getJob(jobId)
  if (original && (await original.isActive()))
    throw new Error(`job ${jobId} is running; replay it once it has finished`)
  // The entry goes first: if the replayed job fails for good again, its new entry stays.
  await entry.remove()
  if (original && (await original.isFailed())) {
    await original.retry('failed', { resetAttemptsMade: true, resetAttemptsStarted: true })
  } else {
    // Gone with the queue's retention (or never kept): enqueue it anew under its id, or,
    // for an id BullMQ generated (a number, which may not be given back), a derived one.
    if (original) await original.remove()
    const id = /^\d+$/.test(jobId) ? `${jobId}-replayed-${Date.now()}` : jobId
    await queue.add(name, data, { ...options, jobId: id } as Parameters<Queue['add']>[2])
  }
  return true
}

/** Replays every entry there is now (not those filed again meanwhile); returns how many. */
export async function replayAllDeadLetters(
  deadLetters: DeadLetterQueue,
  queueFor: (name: string) => Queue,
) {
  const ids: string[] = []
  for (let start = 0; ; start += 500) {
    const jobs = await deadLetters.getJobs(['waiting'], start, start + 499, true)
    ids.push(...jobs.filter(Boolean).map((job) => String(job.id)))
    if (jobs.length < 500) break
  }
  let replayed = 0
  for (const id of ids) if (await replayDeadLetter(deadLetters, id, queueFor)) replayed++
  return replayed
}

/** Removes one entry (true if it existed), or every entry with `id` undefined (the count). */
export async function purgeDeadLetters(deadLetters: DeadLetterQueue, id?: string) {
  if (id !== undefined) {
    const job = await deadLetters.getJob(id)
    if (!job) return 0
    await job.remove()
    return 1
  }
  const total = await deadLetters.count()
  await deadLetters.drain(true)
  return total
}
