import { type TenantContext, withTenant } from '@repo/db'
import { errors } from './app-error.ts'
import type { CoreDeps } from './context.ts'

/** One project of the acting organization; another tenant's id is simply not found. */
export async function getProject(
  deps: CoreDeps,
  actor: TenantContext,
  input: { projectId: string },
) {
  const project = await withTenant(deps.db, actor, (tx) =>
    tx.project.findUnique({ where: { id: input.projectId } }),
  )
  if (!project) throw errors.notFound('The project')
  return project
}
