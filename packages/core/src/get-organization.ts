import { withTenant } from '@repo/db'
import { errors } from './app-error.ts'
import type { CoreDeps } from './context.ts'

/** One organization, read in its tenant context (the caller has checked membership). */
export async function getOrganization(
  deps: CoreDeps,
  input: { organizationId: string; userId: string },
) {
  const organization = await withTenant(deps.db, input, (tx) =>
    tx.organization.findUnique({ where: { id: input.organizationId } }),
  )
  if (!organization) throw errors.notFound('The organization')
  return organization
}
