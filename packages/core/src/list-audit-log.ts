import { withTenant } from '@repo/db'
import type { CoreDeps } from './context.ts'
import { likeLiteral } from './list-projects.ts'
import type { ActingMember } from './members.ts'
import { NEWEST_FIRST, type PageRequest, pageQuery, toPage } from './pagination.ts'

export interface ListAuditLogInput extends PageRequest {
  /** An exact action (`member.role_changed`), or a prefix ending in `.` (`member.`). */
  action?: string | undefined
  actorUserId?: string | undefined
  targetType?: string | undefined
  /** Entries at or after this instant. */
  since?: Date | undefined
  /** Entries before this instant (exclusive, so consecutive windows never overlap). */
  until?: Date | undefined
}

/** Who did it: names only for current members, whom every member can list anyway. */
export interface AuditActor {
  id: string
  name: string | null
  email: string | null
}

/**
 * A page of the organization's audit log, newest first, in two statements whatever its
 * size: the entries, then the names of those of their actors who are still members.
 *
 * Owners see every entry's IP address; an admin sees only those of their own actions:
 * where a member works from is personal data, and the owner is the one accountable for
 * the organization, while the log's other uses (who did what, when) need no address.
 */
export async function listAuditLog(deps: CoreDeps, actor: ActingMember, input: ListAuditLogInput) {
  const query = pageQuery(input, NEWEST_FIRST)
  const { rows, members } = await withTenant(deps.db, actor, async (tx) => {
    const rows = await tx.auditLog.findMany({
      ...query,
      where: {
        // Row-level security also shows the acting user their own account events (no
        // organization: sign-ins, password changes) in this context; they are not the
        // organization's to read.
        organizationId: actor.organizationId,
        ...(input.action
          ? {
              action: input.action.endsWith('.')
                ? { startsWith: likeLiteral(input.action) }
                : input.action,
            }
          : {}),
        ...(input.actorUserId ? { actorUserId: input.actorUserId } : {}),
        ...(input.targetType ? { targetType: input.targetType } : {}),
        ...(input.since || input.until
          ? {
              createdAt: {
                ...(input.since ? { gte: input.since } : {}),
                ...(input.until ? { lt: input.until } : {}),
              },
            }
          : {}),
        ...query.where,
      },
    })
    const actorIds = [...new Set(rows.flatMap((row) => row.actorUserId ?? []))]
    // Through memberships, which row-level security keeps to this organization: a former
    // member, or anyone else, stays an id.
    const members = actorIds.length
      ? await tx.membership.findMany({
          where: {
            organizationId: actor.organizationId,
            userId: { in: actorIds },
            removalRequestedAt: null,
          },
          select: { userId: true, user: { select: { name: true, email: true } } },
        })
      : []
    return { rows, members }
  })
  const known = new Map(members.map((m) => [m.userId, m.user]))
  const page = toPage(rows, input, NEWEST_FIRST)
  return {
    nextCursor: page.nextCursor,
    data: page.data.map((row) => ({
      id: row.id,
      action: row.action,
      actor: row.actorUserId
        ? ({
            id: row.actorUserId,
            name: known.get(row.actorUserId)?.name ?? null,
            email: known.get(row.actorUserId)?.email ?? null,
          } satisfies AuditActor)
        : null,
      targetType: row.targetType,
      targetId: row.targetId,
      ipAddress: actor.role === 'owner' || row.actorUserId === actor.userId ? row.ipAddress : null,
      metadata: row.metadata as Record<string, unknown>,
      createdAt: row.createdAt,
    })),
  }
}
