import { withUser } from '@repo/db'
import type { CoreDeps } from './context.ts'

/** The organizations the user belongs to, with their role in each, oldest membership first. */
export async function listOrganizations(deps: CoreDeps, input: { userId: string }) {
  const memberships = await withUser(deps.db, input.userId, (tx) =>
    tx.membership.findMany({
      where: { userId: input.userId },
      include: { organization: true },
      orderBy: { createdAt: 'asc' },
    }),
  )
  return memberships.map((m) => ({ ...m.organization, role: m.role }))
}
