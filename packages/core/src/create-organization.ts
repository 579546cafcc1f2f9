import { randomUUID } from 'node:crypto'
import { withTenant } from '@repo/db'
import { recordAudit } from './audit.ts'
import type { CoreDeps, RequestMeta } from './context.ts'

/**
 * Creates an organization whose creator is its owner. It runs inside the new
 * organization's own tenant context (id chosen first) so row-level security admits the
 * rows; the organization, the membership and the audit entry commit together.
 */
export async function createOrganization(
  deps: CoreDeps,
  input: { userId: string; name: string },
  meta: RequestMeta = {},
) {
  const organizationId = randomUUID()
  return withTenant(deps.db, { organizationId, userId: input.userId }, async (tx) => {
    const organization = await tx.organization.create({
      data: { id: organizationId, name: input.name.trim() },
    })
    await tx.membership.create({ data: { organizationId, userId: input.userId, role: 'owner' } })
    await recordAudit(tx, {
      action: 'organization.created',
      organizationId,
      actorUserId: input.userId,
      targetType: 'organization',
      targetId: organizationId,
      ipAddress: meta.ipAddress,
    })
    return { ...organization, role: 'owner' as const }
  })
}
