import { withTenant } from '@repo/db'
import { recordAudit } from './audit.ts'
import type { CoreDeps, RequestMeta } from './context.ts'

/**
 * Deletes the organization and, through foreign-key cascades, everything it owns. The
 * audit entry outlives it (the audit log has no foreign keys).
 */
export async function deleteOrganization(
  deps: CoreDeps,
  input: { organizationId: string; userId: string },
  meta: RequestMeta = {},
) {
  await withTenant(deps.db, input, async (tx) => {
    await recordAudit(tx, {
      action: 'organization.deleted',
      organizationId: input.organizationId,
      actorUserId: input.userId,
      targetType: 'organization',
      targetId: input.organizationId,
      ipAddress: meta.ipAddress,
    })
    // Projects (and their tasks) first: a task's assignee reference to a membership must
    // not be checked while the memberships' cascade runs ahead of the tasks'.
    await tx.project.deleteMany({})
    await tx.organization.delete({ where: { id: input.organizationId } })
  })
}
