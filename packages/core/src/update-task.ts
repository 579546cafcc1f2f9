import { type TenantContext, withTenant } from '@repo/db'
import { errors } from './app-error.ts'
import type { CoreDeps, RequestMeta } from './context.ts'
import { type ExpectedVersion, versionMismatch } from './preconditions.ts'
import { assertAssignable, type TaskChanges, taskData } from './task-fields.ts'
import { emitWebhookEvent, taskEventData } from './webhook-events.ts'

/**
 * Changes a task if it is still at `expectedVersion` (412 otherwise; 404 if it is not
 * there), with one conditional UPDATE.
 */
export async function updateTask(
  deps: CoreDeps,
  actor: TenantContext,
  input: {
    projectId: string
    taskId: string
    expectedVersion: ExpectedVersion
    changes: TaskChanges
  },
  meta: RequestMeta = {},
) {
  return withTenant(deps.db, actor, async (tx) => {
    await assertAssignable(tx, actor.organizationId, input.changes.assigneeId)
    const [updated] = await tx.task.updateManyAndReturn({
      where: {
        id: input.taskId,
        projectId: input.projectId,
        ...(input.expectedVersion === undefined ? {} : { version: input.expectedVersion }),
      },
      data: { ...taskData(input.changes), version: { increment: 1 } },
    })
    if (updated) {
      await emitWebhookEvent(
        tx,
        actor.organizationId,
        { type: 'task.updated', data: taskEventData(updated) },
        meta,
      )
      return updated
    }
    const current = await tx.task.findFirst({
      where: { id: input.taskId, projectId: input.projectId },
      select: { version: true },
    })
    if (!current) throw errors.notFound('The task')
    throw versionMismatch('The task', current.version)
  })
}
