import type { MembershipRole, TenantTransaction } from '@repo/db'
import { withTenant } from '@repo/db'
import { AppError, errors } from './app-error.ts'
import { recordAudit } from './audit.ts'
import type { CoreDeps, RequestMeta } from './context.ts'
import { type PageRequest, pageQuery, toPage } from './pagination.ts'
import { roleAtLeast } from './resolve-membership.ts'
import { emitWebhookEvents, taskEventData } from './webhook-events.ts'

export interface ActingMember {
  organizationId: string
  userId: string
  role: MembershipRole
}

const lastOwner = () =>
  new AppError({
    code: 'last_owner',
    status: 409,
    userMessage: 'An organization needs an owner: make someone else owner first.',
  })

/**
 * Locks the organization's owner rows for the rest of the transaction, so two concurrent
 * demotions or departures cannot both pass the "another owner remains" check.
 */
async function lockedOwnerIds(tx: TenantTransaction, organizationId: string): Promise<string[]> {
  const rows = await tx.$queryRaw<{ user_id: string }[]>`
    SELECT user_id FROM memberships
    WHERE organization_id = ${organizationId}::uuid AND role = 'owner'
    FOR UPDATE`
  return rows.map((row) => row.user_id)
}

/**
 * The actor's role as of now, row locked until commit: the role the access check saw may
 * have changed since (a concurrent demotion), and decisions must rest on the current one.
 */
async function lockedActorRole(
  tx: TenantTransaction,
  actor: ActingMember,
): Promise<MembershipRole> {
  const [row] = await tx.$queryRaw<{ role: MembershipRole }[]>`
    SELECT role FROM memberships
    WHERE organization_id = ${actor.organizationId}::uuid AND user_id = ${actor.userId}::uuid
    FOR UPDATE`
  if (!row) throw errors.notFound('The organization')
  return row.role
}

/**
 * A member who leaves, is removed, or drops below admin loses what they could do as an
 * admin: their API keys in this organization are revoked and their pending invitations
 * withdrawn, in the same transaction.
 */
async function revokeCredentialsOf(tx: TenantTransaction, organizationId: string, userId: string) {
  const now = new Date()
  await tx.apiKey.updateMany({
    where: { organizationId, createdById: userId, revokedAt: null },
    data: { revokedAt: now },
  })
  await tx.invitation.updateMany({
    where: { organizationId, invitedById: userId, acceptedAt: null, revokedAt: null },
    data: { revokedAt: now },
  })
}

/**
 * What a membership change decides on, read under lock: the owners, the actor's current
 * role, and the member being changed (404 when not a member).
 */
async function lockForMemberChange(tx: TenantTransaction, actor: ActingMember, userId: string) {
  const owners = await lockedOwnerIds(tx, actor.organizationId)
  const actorRole = await lockedActorRole(tx, actor)
  const target = await tx.membership.findUnique({
    where: { organizationId_userId: { organizationId: actor.organizationId, userId } },
  })
  if (!target) throw errors.notFound('The member')
  return { owners, actorRole, target }
}

/** Members of the organization with their role, oldest first. */
export async function listMembers(deps: CoreDeps, actor: ActingMember, page: PageRequest) {
  const query = pageQuery(page)
  const rows = await withTenant(deps.db, actor, (tx) =>
    tx.membership.findMany({ ...query, include: { user: true } }),
  )
  const result = toPage(rows, page)
  return {
    nextCursor: result.nextCursor,
    data: result.data.map((m) => ({
      userId: m.userId,
      email: m.user.email,
      name: m.user.name,
      role: m.role,
      joinedAt: m.createdAt,
    })),
  }
}

/**
 * Changes a member's role. Admins manage members and admins; only an owner grants or
 * takes the owner role; the last owner cannot be demoted.
 */
export async function changeMemberRole(
  deps: CoreDeps,
  actor: ActingMember,
  input: { userId: string; role: MembershipRole },
  meta: RequestMeta = {},
) {
  return withTenant(deps.db, actor, async (tx) => {
    const { owners, actorRole, target } = await lockForMemberChange(tx, actor, input.userId)
    if (!roleAtLeast(actorRole, 'admin')) throw errors.forbidden()
    if ((target.role === 'owner' || input.role === 'owner') && actorRole !== 'owner') {
      throw errors.forbidden('Only an owner can grant or take the owner role.')
    }
    if (
      target.role === 'owner' &&
      input.role !== 'owner' &&
      owners.filter((id) => id !== input.userId).length === 0
    ) {
      throw lastOwner()
    }
    const updated = await tx.membership.update({
      where: { id: target.id },
      data: { role: input.role },
    })
    if (input.role === 'member') await revokeCredentialsOf(tx, actor.organizationId, input.userId)
    await recordAudit(tx, {
      action: 'member.role_changed',
      organizationId: actor.organizationId,
      actorUserId: actor.userId,
      targetType: 'user',
      targetId: input.userId,
      ipAddress: meta.ipAddress,
      metadata: { from: target.role, to: input.role },
    })
    return updated
  })
}

/**
 * Removes a member (admins; owners only by an owner), or the caller themself (leaving).
 * The last owner can neither leave nor be removed.
 */
export async function removeMember(
  deps: CoreDeps,
  actor: ActingMember,
  input: { userId: string },
  meta: RequestMeta = {},
) {
  await withTenant(deps.db, actor, async (tx) => {
    const { owners, actorRole, target } = await lockForMemberChange(tx, actor, input.userId)
    const leaving = input.userId === actor.userId
    if (!leaving) {
      if (!roleAtLeast(actorRole, 'admin')) throw errors.forbidden()
      if (target.role === 'owner' && actorRole !== 'owner')
        throw errors.forbidden('Only an owner can remove an owner.')
    }
    if (target.role === 'owner' && owners.filter((id) => id !== input.userId).length === 0)
      throw lastOwner()
    // Their tasks stay, unassigned: the membership they pointed at is going (same transaction).
    const unassigned = await tx.task.updateManyAndReturn({
      where: { assigneeId: input.userId },
      data: { assigneeId: null, version: { increment: 1 } },
    })
    await emitWebhookEvents(
      tx,
      actor.organizationId,
      unassigned.map((task) => ({ type: 'task.updated' as const, data: taskEventData(task) })),
      meta,
    )
    await tx.membership.delete({ where: { id: target.id } })
    await revokeCredentialsOf(tx, actor.organizationId, input.userId)
    await recordAudit(tx, {
      action: leaving ? 'member.left' : 'member.removed',
      organizationId: actor.organizationId,
      actorUserId: actor.userId,
      targetType: 'user',
      targetId: input.userId,
      ipAddress: meta.ipAddress,
    })
  })
}
