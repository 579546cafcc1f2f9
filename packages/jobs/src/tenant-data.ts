import { z } from 'zod'
import { defineJob } from './define-job.ts'
import { DEFAULT_QUEUE } from './queues.ts'

// Work on a tenant's data too large for one request's transaction: done by the worker in
// small batches (each its own short transaction), resumable at any point. The job runs
// for a bounded time per turn and then queues itself again, so no size is too large.
const batched = {
  version: 1,
  queue: DEFAULT_QUEUE,
  attempts: 10,
  backoff: { type: 'exponential' as const, delay: 5_000, jitter: 0.5 },
  timeoutMs: 5 * 60_000,
  keep: { completed: { age: 7 * 24 * 3_600, count: 1_000 }, failed: { age: 30 * 24 * 3_600 } },
}

/**
 * Empties an organization whose deletion was asked for (the job's context names it),
 * batch by batch, then deletes it and records that in the audit log.
 */
export const organizationDeletionJob = defineJob({
  ...batched,
  name: 'organizations.delete',
  schema: z.object({ requestedBy: z.uuid() }).strict(),
})

/**
 * Finishes removing a member with many tasks: unassigns them batch by batch (each with
 * its `task.updated` webhook event), then deletes the membership.
 */
export const memberRemovalJob = defineJob({
  ...batched,
  name: 'members.finish-removal',
  schema: z.object({ userId: z.uuid() }).strict(),
})
