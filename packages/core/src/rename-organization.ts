import { withTenant } from '@repo/db'
import { recordAudit } from './audit.ts'
import type { CoreDeps, RequestMeta } from './context.ts'

/** Renames the caller's current organization (the route requires admin or owner). */
export async function renameOrganization(
  deps: CoreDeps,
  input: { organizationId: string; userId: string; name: string },
  meta: RequestMeta = {},
) {
  return withTenant(deps.db, input, async (tx) => {
    const organization = await tx.organization.update({
      where: { id: input.organizationId },
      data: { name: input.name.trim() },
    })
    await recordAudit(tx, {
      action: 'organization.renamed',
      organizationId: input.organizationId,
      actorUserId: input.userId,
      targetType: 'organization',
      targetId: input.organizationId,
      ipAddress: meta.ipAddress,
      metadata: { name: organization.name },
    })
    return organization
  })
}
