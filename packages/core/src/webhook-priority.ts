import type { TenantTransaction } from '@repo/db'

/**
 * The queue priority of an organization's new deliveries (BullMQ: 1 first): one more than
 * its deliveries still pending. A tenant with no backlog goes ahead of one with thousands
 * queued, instead of waiting for every one of them to be tried (ADR 017).
 */
export async function deliveryPriority(tx: TenantTransaction, organizationId: string) {
  const [row] = await tx.$queryRaw<[{ pending: number }]>`
    SELECT count(*)::int AS pending FROM (
      SELECT 1 FROM webhook_deliveries
      WHERE organization_id = ${organizationId}::uuid AND status = 'pending'
      LIMIT ${MAX_PRIORITY - 1}) backlog`
  return 1 + (row?.pending ?? 0)
}
/** Past this backlog the order among backlogged tenants matters little; counting stays cheap. */
const MAX_PRIORITY = 100_000
