import { type TenantContext, withTenant } from '@repo/db'
import { errors } from './app-error.ts'
import type { CoreDeps } from './context.ts'

/** One task of one project; a task of another project or tenant is not found. */
export async function getTask(
  deps: CoreDeps,
  actor: TenantContext,
  input: { projectId: string; taskId: string },
) {
  const task = await withTenant(deps.db, actor, (tx) =>
    tx.task.findFirst({ where: { id: input.taskId, projectId: input.projectId } }),
  )
  if (!task) throw errors.notFound('The task')
  return task
}
