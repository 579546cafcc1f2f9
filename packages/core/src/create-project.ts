import { type TenantContext, withTenant } from '@repo/db'
import type { CoreDeps } from './context.ts'
import type { ProjectChanges } from './project-fields.ts'

/** Creates a project; its name is unique in the organization (a duplicate answers 409). */
export async function createProject(
  deps: CoreDeps,
  actor: TenantContext,
  input: ProjectChanges & { name: string },
) {
  return withTenant(deps.db, actor, (tx) =>
    tx.project.create({
      data: {
        organizationId: actor.organizationId,
        name: input.name,
        description: input.description ?? '',
        status: input.status ?? 'active',
      },
    }),
  )
}
