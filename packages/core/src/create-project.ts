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
    // KEY: the inserts above, which reference it, are not blocked by it), and its count of
    // projects, kept by triggers (ADR 044), in one statement. The count is of committed
    // projects: this one is added to it when the transaction commits, still under the lock.
    // Taken last, the lock is held for the claim's mark and the commit only (ADR 041).
    const [row] = await tx.$queryRaw<[{ count: number }?]>`
      SELECT project_count AS count FROM organizations
      WHERE id = ${actor.organizationId}::uuid FOR NO KEY UPDATE`
    const limit = deps.quotas.projectsPerOrganization
    // The insert's foreign key proved the row is there and holds it: never missing here.
    if (!row) throw new Error('createProject: the organization row was not visible to its tenant')
    if (row.count + 1 > limit) throw quotaExceeded('projects', limit)
    return project
  })
}
