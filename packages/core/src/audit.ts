import type { Prisma } from '@repo/db'

export interface AuditEntry {
  action: string
  organizationId?: string | undefined
  actorUserId?: string | undefined
  targetType?: string
  targetId?: string
  ipAddress?: string | undefined
  metadata?: Prisma.InputJsonObject
}

/**
 * Appends to the audit log, inside the caller's transaction when given one (the event and
 * the change commit together). createMany, because it returns nothing: reading the row
 * back would need a tenant or user context, and an event about an unknown account has neither.
 */
export async function recordAudit(
  tx: Pick<Prisma.TransactionClient, 'auditLog'>,
  entry: AuditEntry,
): Promise<void> {
  await tx.auditLog.createMany({
    data: {
      action: entry.action,
      organizationId: entry.organizationId ?? null,
      actorUserId: entry.actorUserId ?? null,
      targetType: entry.targetType ?? null,
      targetId: entry.targetId ?? null,
      ipAddress: entry.ipAddress?.slice(0, 45) ?? null,
      metadata: entry.metadata ?? {},
    },
  })
}
