import { type TenantContext, withTenant } from '@repo/db'
import type { CoreDeps, RequestMeta } from './context.ts'
import { quotaExceeded } from './preconditions.ts'
import type { ProjectChanges } from './project-fields.ts'
import { emitWebhookEvent, projectEventData } from './webhook-events.ts'

/**
 * Creates a project; its name is unique in the organization (a duplicate answers 409),
 * and the organization's project quota holds (403 past it).
 */
export async function createProject(
  deps: CoreDeps,
  actor: TenantContext,
  input: ProjectChanges & { name: string },
  meta: RequestMeta = {},
) {
  return withTenant(deps.db, actor, async (tx) => {
    const project = await tx.project.create({
      data: {
        organizationId: actor.organizationId,
        name: input.name,
        description: input.description ?? '',
        status: input.status ?? 'active',
      },
    })
    await emitWebhookEvent(
      tx,
      actor.organizationId,
      { type: 'project.created', data: projectEventData(project) },
      meta,
    )
    // Last, the organization row, the lock that serialises creates against the quota (NO
    // KEY: the inserts above, which reference it, are not blocked by it), and the count of
    // its projects this one included, in one statement (ADR 041). Taken last, the lock is
    // held for the claim's mark and the commit only.
    const [{ count }] = await tx.$queryRaw<[{ count: number }]>`
      SELECT app_lock_organization_count_projects(${actor.organizationId}::uuid) AS count`
    const limit = deps.quotas.projectsPerOrganization
    if (count > limit) throw quotaExceeded('projects', limit)
    return project
  })
}
