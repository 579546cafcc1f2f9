import { jobEnvelope, jobOptions, type Schedule } from '@repo/jobs'
import type { Logger } from '@repo/observability'
import type { Queue } from 'bullmq'

/**
 * Makes Redis hold exactly the declared schedules (BullMQ job schedulers, UTC): each is
 * upserted by its id, so registering on every start changes nothing that is current, and
 * a scheduler whose id is no longer declared is removed.
 */
export async function registerSchedules(queue: Queue, schedules: Schedule[], logger: Logger) {
  for (const schedule of schedules) {
    await queue.upsertJobScheduler(
      schedule.id,
      { pattern: schedule.pattern, tz: 'UTC' },
      {
        name: schedule.job.name,
        data: jobEnvelope(schedule.job, {}),
        opts: jobOptions(schedule.job),
      },
    )
  }
  const declared = new Set(schedules.map((schedule) => schedule.id))
  const removed: string[] = []
  for (const existing of await queue.getJobSchedulers(0, -1)) {
    const id = existing.key
    if (!declared.has(id)) {
      await queue.removeJobScheduler(id)
      removed.push(id)
    }
  }
  logger.info({ schedules: [...declared], removed }, 'job schedules registered')
  return { registered: [...declared], removed }
}
