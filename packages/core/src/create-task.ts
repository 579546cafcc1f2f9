import { type TenantContext, withTenant } from '@repo/db'
import { errors } from './app-error.ts'
import type { CoreDeps, RequestMeta } from './context.ts'
import { quotaExceeded } from './preconditions.ts'
import { assertAssignable, type TaskChanges, taskData } from './task-fields.ts'
import { emitWebhookEvent, taskEventData } from './webhook-events.ts'

/** Adds a task to a project of the acting organization. */
export async function createTask(
  deps: CoreDeps,
  actor: TenantContext,
  input: { projectId: string; task: TaskChanges & { title: string } },
  meta: RequestMeta = {},
) {
  return withTenant(deps.db, actor, async (tx) => {
    // Locking the project serialises creates against its quota (and keeps it from going);
    // its count of tasks, kept by triggers (ADR 044), comes with the lock.
    const [project] = await tx.$queryRaw<[{ count: number }?]>`
      SELECT task_count AS count FROM projects WHERE id = ${input.projectId}::uuid FOR NO KEY UPDATE`
    if (!project) throw errors.notFound('The project')
    const limit = deps.quotas.tasksPerProject
    if (project.count >= limit) throw quotaExceeded('tasks in this project', limit)
    await assertAssignable(tx, actor.organizationId, input.task.assigneeId)
    const task = await tx.task.create({
      data: {
        ...taskData(input.task),
        title: input.task.title,
        organizationId: actor.organizationId,
        projectId: input.projectId,
      },
    })
    await emitWebhookEvent(
      tx,
      actor.organizationId,
      { type: 'task.created', data: taskEventData(task) },
      meta,
    )
    return task
  })
}
