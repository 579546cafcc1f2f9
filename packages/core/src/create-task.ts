import { type TenantContext, withTenant } from '@repo/db'
import { errors } from './app-error.ts'
import type { CoreDeps } from './context.ts'
import { assertAssignable, type TaskChanges, taskData } from './task-fields.ts'

/** Adds a task to a project of the acting organization. */
export async function createTask(
  deps: CoreDeps,
  actor: TenantContext,
  input: { projectId: string; task: TaskChanges & { title: string } },
) {
  return withTenant(deps.db, actor, async (tx) => {
    const project = await tx.project.findUnique({
      where: { id: input.projectId },
      select: { id: true },
    })
    if (!project) throw errors.notFound('The project')
    await assertAssignable(tx, actor.organizationId, input.task.assigneeId)
    return tx.task.create({
      data: {
        ...taskData(input.task),
        title: input.task.title,
        organizationId: actor.organizationId,
        projectId: input.projectId,
      },
    })
  })
}
