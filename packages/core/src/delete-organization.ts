import { Prisma, type PrismaClient, withTenant } from '@repo/db'
import { organizationDeletionJob } from '@repo/jobs'
import { announceAccessChange } from './access-changes.ts'
import { errors } from './app-error.ts'
import { recordAudit } from './audit.ts'
import type { CoreDeps, RequestMeta } from './context.ts'
import { addToOutbox } from './outbox.ts'

/**
 * Asks for the organization's deletion. In one short transaction whatever its size: the
 * organization is marked (every route in it answers 409 from now on, ADR 018), its API
 * keys and open invitations are revoked and its webhook endpoints disabled, and a job is
 * queued (outbox) that empties it in batches and then deletes it. Asking again answers
 * the same state and queues the job again (in case it failed for good).
 */
export async function deleteOrganization(
  deps: CoreDeps,
  input: { organizationId: string; userId: string },
  meta: RequestMeta = {},
) {
  const organization = await withTenant(deps.db, input, async (tx) => {
    const queueTheDeletion = () =>
      addToOutbox(
        tx,
        organizationDeletionJob,
        { requestedBy: input.userId },
        { organizationId: input.organizationId, meta },
      )
    const now = new Date()
    const [marked] = await tx.organization.updateManyAndReturn({
      where: { id: input.organizationId, deletionRequestedAt: null },
      data: { deletionRequestedAt: now },
    })
    if (!marked) {
      const already = await tx.organization.findUnique({ where: { id: input.organizationId } })
      if (!already) throw errors.notFound('The organization')
      // Asked again (the job may have failed for good): queue it once more. Its batches
      // are safe to run twice, even at once.
      await queueTheDeletion()
      return already
    }
    const organizationId = input.organizationId
    await tx.apiKey.updateMany({
      where: { organizationId, revokedAt: null },
      data: { revokedAt: now },
    })
    await tx.invitation.updateMany({
      where: { organizationId, acceptedAt: null, revokedAt: null },
      data: { revokedAt: now },
    })
    await tx.webhookEndpoint.updateMany({
      where: { organizationId, disabledAt: null },
      data: { disabledAt: now, disabledReason: 'The organization is being deleted.' },
    })
    await recordAudit(tx, {
      action: 'organization.deletion_requested',
      organizationId,
      actorUserId: input.userId,
      targetType: 'organization',
      targetId: organizationId,
      ipAddress: meta.ipAddress,
    })
    await queueTheDeletion()
    return marked
  })
  // Every member's cached access says "not being deleted": every instance forgets it now.
  await announceAccessChange(deps, { organizationIds: [input.organizationId] })
  return organization
}

/**
 * What an organization owns that can grow large, emptied first, children before parents
 * (names from this constant list only, never from input). The rest (memberships,
 * invitations, keys, endpoints, outbox and idempotency rows) is small and goes with the
 * organization row through its foreign keys' cascades.
 */
const LARGE_TABLES = ['webhook_delivery_attempts', 'webhook_deliveries', 'tasks', 'projects']

/**
 * Empties an organization whose deletion was asked for, `batchSize` rows per
 * transaction, then deletes it and records that in the audit log (which has no foreign
 * keys, so the entry outlives it). Stops between batches once `shouldStop` says so and
 * returns `done: false`: the caller runs it again later, and it goes on where it was.
 */
export async function purgeOrganization(
  deps: { db: PrismaClient },
  input: { organizationId: string; requestedBy: string },
  options: { batchSize: number; shouldStop?: () => boolean },
): Promise<{ done: boolean; deletedRows: number }> {
  const { organizationId } = input
  let deletedRows = 0
  for (const table of LARGE_TABLES) {
    for (;;) {
      if (options.shouldStop?.()) return { done: false, deletedRows }
      const count = await withTenant(
        deps.db,
        { organizationId },
        (tx) =>
          tx.$executeRaw`
          DELETE FROM ${Prisma.raw(`"${table}"`)} WHERE id IN (
            SELECT id FROM ${Prisma.raw(`"${table}"`)}
            WHERE organization_id = ${organizationId}::uuid LIMIT ${options.batchSize})`,
      )
      deletedRows += count
      if (count < options.batchSize) break
    }
  }
  await withTenant(deps.db, { organizationId }, async (tx) => {
    // Asked for and not yet gone: a rerun after the last batch finds nothing to do.
    const { count } = await tx.organization.deleteMany({
      where: { id: organizationId, deletionRequestedAt: { not: null } },
    })
    if (count === 1)
      await recordAudit(tx, {
        action: 'organization.deleted',
        organizationId,
        actorUserId: input.requestedBy,
        targetType: 'organization',
        targetId: organizationId,
      })
  })
  return { done: true, deletedRows }
}
