import { randomUUID } from 'node:crypto'
import { requestBackup } from '@repo/core'
import { MAINTENANCE_QUEUE, nightlyBackupJob } from '@repo/jobs'
import type { JobType, Queue } from 'bullmq'
import type { OpsContext } from '../context.ts'

const UNFINISHED: JobType[] = ['active', 'waiting', 'prioritized', 'delayed', 'waiting-children']

/**
 * `backups run`: a backup now, through the same job the nightly schedule enqueues
 * (maintenance.nightly-backup), recorded in the outbox with its audit entry. A backup
 * already waiting or running is reported instead of asking for a second one. Then waits
 * (--wait seconds) until the worker's relay has put it on the queue, and says so.
 */
export async function runBackup(ctx: OpsContext, options: { wait: number }) {
  const actor = ctx.operator()
  const db = await ctx.db()
  const queue = (await ctx.queues()).get(MAINTENANCE_QUEUE)
  const pending = await backupJobs(queue, UNFINISHED)
  if (pending[0]) {
    const { job, state } = pending[0]
    ctx.out(
      `Already done: a backup is ${state} (job ${job.id}, asked for at ${new Date(job.timestamp).toISOString()}).`,
    )
    return
  }
  const requestId = `ops-${randomUUID()}`
  await requestBackup({ db }, actor, { requestId })
  ctx.out(`Backup requested. Audit log: backup.requested by ${actor.operator}.`)
  const deadline = Date.now() + options.wait * 1_000
  while (Date.now() < deadline) {
    const found = (await backupJobs(queue, [...UNFINISHED, 'completed', 'failed'])).find(
      ({ job }) =>
        (job.data as { context?: { requestId?: string } }).context?.requestId === requestId,
    )
    if (found) {
      ctx.out(`On the ${MAINTENANCE_QUEUE} queue as job ${found.job.id} (${found.state}).`)
      if (await queue.isPaused())
        ctx.warn(
          `The ${MAINTENANCE_QUEUE} queue is paused: the backup runs once it is resumed (ops queues resume ${MAINTENANCE_QUEUE}).`,
        )
      return
    }
    await new Promise((resolve) => setTimeout(resolve, 250))
  }
  if (options.wait > 0)
    ctx.warn(
      `Not on the queue after ${options.wait} s: is the worker running? The request is kept in the outbox, and the worker's relay publishes it when it runs.`,
    )
}

interface Found {
  job: { id?: string | undefined; name: string; data: unknown; timestamp: number }
  state: JobType
}

/** The queue's backup jobs in these states (each state's newest 200: plenty for one job). */
async function backupJobs(queue: Queue, states: JobType[]): Promise<Found[]> {
  const found: Found[] = []
  for (const state of states)
    for (const job of await queue.getJobs(state, 0, 199))
      if (job?.name === nightlyBackupJob.name) found.push({ job, state })
  return found
}
