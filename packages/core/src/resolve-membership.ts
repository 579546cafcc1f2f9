import type { MembershipRole } from '@repo/db'
import type { CoreDeps } from './context.ts'

const RANK: Record<MembershipRole, number> = { member: 1, admin: 2, owner: 3 }

/** True when `role` is at least `required` (owner > admin > member). */
export function roleAtLeast(role: MembershipRole, required: MembershipRole): boolean {
  return RANK[role] >= RANK[required]
}

/**
 * The user's role in the organization, or null when they are not a member (or are being
 * removed), and whether the organization is being deleted. Asked on every organization
 * request, so it is one statement: a database function that reads the one membership (a
 * transaction with the user setting cost four round trips; ADR 010).
 */
export async function resolveMembership(
  deps: CoreDeps,
  input: { userId: string; organizationId: string },
) {
  const [row] = await deps.db.$queryRaw<
    [{ role: MembershipRole; organization_deleting: boolean }?]
  >`SELECT role, organization_deleting
    FROM app_membership_access(${input.organizationId}::uuid, ${input.userId}::uuid)`
  return row ? { role: row.role, organizationDeleting: row.organization_deleting } : null
}
