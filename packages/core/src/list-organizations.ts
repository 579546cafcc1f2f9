import { withUser } from '@repo/db'
import type { CoreDeps } from './context.ts'
import { type PageRequest, pageQuery, toPage } from './pagination.ts'

/** The organizations the user belongs to, with their role in each, oldest membership first. */
export async function listOrganizations(
  deps: CoreDeps,
  input: { userId: string },
  page: PageRequest,
) {
  const query = pageQuery(page)
  const rows = await withUser(deps.db, input.userId, (tx) =>
    tx.membership.findMany({
      ...query,
      // A membership being removed gives nothing, so it lists nothing.
      where: { userId: input.userId, removalRequestedAt: null, ...query.where },
      include: { organization: true },
    }),
  )
  const result = toPage(rows, page)
  return {
    nextCursor: result.nextCursor,
    data: result.data.map((m) => ({ ...m.organization, role: m.role })),
  }
}
