import { type TenantContext, withTenant } from '@repo/db'
import { errors } from './app-error.ts'
import type { CoreDeps, RequestMeta } from './context.ts'
import { type ExpectedVersion, versionMismatch } from './preconditions.ts'
import { emitWebhookEvent } from './webhook-events.ts'

/** Deletes a task if it is still at `expectedVersion` (when one is given). */
export async function deleteTask(
  deps: CoreDeps,
  actor: TenantContext,
  input: { projectId: string; taskId: string; expectedVersion: ExpectedVersion },
  meta: RequestMeta = {},
) {
  await withTenant(deps.db, actor, async (tx) => {
    // The project first: the delete's trigger updates its task count (ADR 044), and
    // deleting the project locks it and then its tasks. Taking the project's lock after
    // the task's would let the two deadlock; parent before child, as createTask does.
    await tx.$queryRaw`SELECT 1 FROM projects WHERE id = ${input.projectId}::uuid FOR NO KEY UPDATE`
    const { count } = await tx.task.deleteMany({
      where: {
        id: input.taskId,
        projectId: input.projectId,
        ...(input.expectedVersion === undefined ? {} : { version: input.expectedVersion }),
      },
    })
    if (count > 0) {
      await emitWebhookEvent(
        tx,
        actor.organizationId,
        {
          type: 'task.deleted',
          data: {
            id: input.taskId,
            organizationId: actor.organizationId,
            projectId: input.projectId,
          },
        },
        meta,
      )
      return
    }
    const current = await tx.task.findFirst({
      where: { id: input.taskId, projectId: input.projectId },
      select: { version: true },
    })
    if (!current) throw errors.notFound('The task')
    throw versionMismatch('The task', current.version)
  })
}
