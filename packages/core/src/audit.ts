import type { Prisma, PrismaClient, TenantTransaction } from '@repo/db'

export interface AuditEntry {
  action: string
  organizationId?: string | undefined
  actorUserId?: string | undefined
  /** An operator's name (`pnpm ops`), for actions of no user; never with actorUserId. */
  actorOperator?: string | undefined
  targetType?: string
  targetId?: string
  ipAddress?: string | undefined
  metadata?: Prisma.InputJsonObject
}

/**
 * Appends to the audit log, inside the caller's transaction (the event and the change
 * commit together; never the client, which the type refuses). createMany, because it
 * returns nothing: reading the row back would need a tenant or user context.
 */
export async function recordAudit(
  tx: TenantTransaction<'auditLog'>,
  entry: AuditEntry,
): Promise<void> {
  await tx.auditLog.createMany({
    data: {
      action: entry.action,
      organizationId: entry.organizationId ?? null,
      actorUserId: entry.actorUserId ?? null,
      actorOperator: entry.actorOperator?.slice(0, 100) ?? null,
      targetType: entry.targetType ?? null,
      targetId: entry.targetId ?? null,
      ipAddress: entry.ipAddress?.slice(0, 45) ?? null,
      metadata: entry.metadata ?? {},
    },
  })
}

/**
 * The audit log's retention: deletes entries older than `keepDays` (at least 30), through
 * the one definer function the append-only trigger lets delete, granted only to the
 * worker's login. Returns how many went.
 */
export async function pruneAuditLog(deps: { db: PrismaClient }, options: { keepDays: number }) {
  const [row] = await deps.db.$queryRaw<[{ deleted: number }]>`
    SELECT deleted FROM audit_logs_prune(${options.keepDays}::int)`
  return { deleted: row?.deleted ?? 0 }
}
