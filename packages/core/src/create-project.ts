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
    // The organization row is the lock that serialises creates against the quota (NO KEY:
    // inserts that reference the organization are not blocked by it).
    await tx.$executeRaw`SELECT 1 FROM organizations WHERE id = ${actor.organizationId}::uuid FOR NO KEY UPDATE`
    const limit = deps.quotas.projectsPerOrganization
    if ((await tx.project.count()) >= limit) throw quotaExceeded('projects', limit)
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
    return project
  })
}
