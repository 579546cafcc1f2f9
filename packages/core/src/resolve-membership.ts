import type { MembershipRole } from '@repo/db'
import { withUser } from '@repo/db'
import type { CoreDeps } from './context.ts'

const RANK: Record<MembershipRole, number> = { member: 1, admin: 2, owner: 3 }

/** True when `role` is at least `required` (owner > admin > member). */
export function roleAtLeast(role: MembershipRole, required: MembershipRole): boolean {
  return RANK[role] >= RANK[required]
}

/** The user's role in the organization, or null when they are not a member. */
export async function resolveMembership(
  deps: CoreDeps,
  input: { userId: string; organizationId: string },
) {
  const membership = await withUser(deps.db, input.userId, (tx) =>
    tx.membership.findUnique({
      where: {
        organizationId_userId: { organizationId: input.organizationId, userId: input.userId },
      },
    }),
  )
  return membership ? { role: membership.role } : null
}
