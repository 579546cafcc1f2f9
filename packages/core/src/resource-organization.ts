import type { CoreDeps } from './context.ts'

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i

/** What an operator may name by id alone (docs/decisions/025). */
export type OperatorTarget = 'api_key' | 'webhook_endpoint'

/**
 * The organization an API key or webhook endpoint belongs to, or null when there is no
 * such id: the one cross-tenant answer an operator needs before working in that tenant's
 * context like the API does. Through a definer function granted only to the worker's
 * role (ops_resource_organization), which the CLI connects as.
 */
export async function resourceOrganization(
  deps: Pick<CoreDeps, 'db'>,
  kind: OperatorTarget,
  id: string,
): Promise<string | null> {
  if (!UUID.test(id)) return null
  const [row] = await deps.db.$queryRaw<[{ organization: string | null }]>`
    SELECT ops_resource_organization(${kind}, ${id.toLowerCase()}::uuid) AS organization`
  return row?.organization ?? null
}
