import type { MembershipRole, PrismaClient, TenantTransaction } from '@repo/db'
import { withTenant } from '@repo/db'
import { memberRemovalJob } from '@repo/jobs'
import { announceAccessChange } from './access-changes.ts'
import { AppError, errors } from './app-error.ts'
import { recordAudit } from './audit.ts'
import type { CoreDeps, RequestMeta } from './context.ts'
import { addToOutbox } from './outbox.ts'
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
      AND removal_requested_at IS NULL
    FOR UPDATE`
  return rows.map((row) => row.user_id)
}

/**
 * The actor's role as of now, row locked until commit: the role the access check saw may
 * have changed since (a concurrent demotion), and decisions must rest on the current one.
 */
export async function lockedActorRole(
  tx: TenantTransaction,
  actor: { organizationId: string; userId: string },
): Promise<MembershipRole> {
  // The organization's row is share-locked too: a deletion asked for meanwhile waits for
  // this transaction, and then revokes what it made (an invitation, a key); one that
  // committed first is seen here, and nothing is made.
  const [row] = await tx.$queryRaw<{ role: MembershipRole }[]>`
    SELECT m.role FROM memberships m JOIN organizations o ON o.id = m.organization_id
    WHERE m.organization_id = ${actor.organizationId}::uuid AND m.user_id = ${actor.userId}::uuid
      AND m.removal_requested_at IS NULL AND o.deletion_requested_at IS NULL
    FOR UPDATE OF m FOR SHARE OF o`
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
async function lockForMemberChange(
  tx: TenantTransaction,
  actor: ActingMember,
  userId: string,
  options: { includeBeingRemoved?: boolean } = {},
) {
  const owners = await lockedOwnerIds(tx, actor.organizationId)
  const actorRole = await lockedActorRole(tx, actor)
  // Locked before anything of theirs is revoked: an invitation or key they are making
  // right now (its transaction locks their membership) commits first and is revoked too.
  const [target] = await tx.$queryRaw<
    { id: string; role: MembershipRole; removalRequestedAt: Date | null }[]
  >`
    SELECT id, role, removal_requested_at AS "removalRequestedAt" FROM memberships
    WHERE organization_id = ${actor.organizationId}::uuid AND user_id = ${userId}::uuid
    FOR UPDATE`
  // One being removed is no longer a member: nothing more to change about them (but their
  // removal may be asked for again).
  if (!target || (target.removalRequestedAt && !options.includeBeingRemoved))
    throw errors.notFound('The member')
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
      removalRequestedAt: m.removalRequestedAt,
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
  const updated = await withTenant(deps.db, actor, async (tx) => {
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
  await announceAccessChange(deps, { userIds: [input.userId] })
  return updated
}

/** Tasks unassigned per transaction when a member leaves or is removed. */
export const MEMBER_REMOVAL_BATCH = 1_000

/**
 * Removes a member (admins; owners only by an owner), or the caller themself (leaving).
 * The last owner can neither leave nor be removed. Access, API keys and invitations end
 * at once. Their tasks stay, unassigned: up to a batch in this transaction (then the
 * membership goes: `removed`); with more, the membership is marked and a job unassigns
 * the rest batch by batch and then deletes it (`removing`, ADR 018).
 */
export async function removeMember(
  deps: CoreDeps,
  actor: ActingMember,
  input: { userId: string },
  meta: RequestMeta = {},
): Promise<{ status: 'removed' } | { status: 'removing'; tasksToUnassign: number }> {
  const result = await withTenant(deps.db, actor, async (tx) => {
    const { owners, actorRole, target } = await lockForMemberChange(tx, actor, input.userId, {
      includeBeingRemoved: true,
    })
    const leaving = input.userId === actor.userId
    if (!leaving) {
      if (!roleAtLeast(actorRole, 'admin')) throw errors.forbidden()
      if (target.role === 'owner' && actorRole !== 'owner')
        throw errors.forbidden('Only an owner can remove an owner.')
    }
    const queueTheRest = () =>
      addToOutbox(
        tx,
        memberRemovalJob,
        { userId: input.userId },
        { organizationId: actor.organizationId, meta },
      )
    if (target.removalRequestedAt) {
      // Asked again (its job may have failed for good): queue the rest once more. The
      // batches are safe to run twice, even at once.
      await queueTheRest()
      const left = await tx.task.count({ where: { assigneeId: input.userId } })
      return { status: 'removing' as const, tasksToUnassign: left }
    }
    if (target.role === 'owner' && owners.filter((id) => id !== input.userId).length === 0)
      throw lastOwner()
    await revokeCredentialsOf(tx, actor.organizationId, input.userId)
    await recordAudit(tx, {
      action: leaving ? 'member.left' : 'member.removed',
      organizationId: actor.organizationId,
      actorUserId: actor.userId,
      targetType: 'user',
      targetId: input.userId,
      ipAddress: meta.ipAddress,
    })
    const assigned = await tx.task.count({ where: { assigneeId: input.userId } })
    if (assigned <= MEMBER_REMOVAL_BATCH) {
      await unassignTasksOf(tx, actor.organizationId, input.userId, meta)
      await tx.membership.delete({ where: { id: target.id } })
      return { status: 'removed' as const }
    }
    await tx.membership.update({
      where: { id: target.id },
      data: { removalRequestedAt: new Date() },
    })
    await queueTheRest()
    return { status: 'removing' as const, tasksToUnassign: assigned }
  })
  await announceAccessChange(deps, { userIds: [input.userId] })
  return result
}

/**
 * Unassigns up to a batch of the member's tasks, each a new version with its
 * `task.updated` webhook event; returns how many.
 */
async function unassignTasksOf(
  tx: TenantTransaction,
  organizationId: string,
  userId: string,
  meta: RequestMeta = {},
) {
  const batch = await tx.task.findMany({
    where: { assigneeId: userId },
    select: { id: true },
    take: MEMBER_REMOVAL_BATCH,
  })
  if (batch.length === 0) return 0
  const unassigned = await tx.task.updateManyAndReturn({
    where: { id: { in: batch.map((task) => task.id) } },
    data: { assigneeId: null, version: { increment: 1 } },
  })
  await emitWebhookEvents(
    tx,
    organizationId,
    unassigned.map((task) => ({ type: 'task.updated' as const, data: taskEventData(task) })),
    meta,
  )
  return unassigned.length
}

/**
 * The job's part of removing a member with many tasks: a batch per transaction, until
 * none is left, then the membership goes (in the transaction of the last batch, so no
 * task can be left pointing at it). Stops between batches once `shouldStop` says so
 * (`done: false`: run it again later).
 */
export async function finishMemberRemoval(
  deps: { db: PrismaClient },
  input: { organizationId: string; userId: string },
  options: { shouldStop?: () => boolean } = {},
): Promise<{ done: boolean }> {
  const { organizationId, userId } = input
  for (;;) {
    if (options.shouldStop?.()) return { done: false }
    const finished = await withTenant(deps.db, { organizationId }, async (tx) => {
      const count = await unassignTasksOf(tx, organizationId, userId)
      if (count === MEMBER_REMOVAL_BATCH) return false
      await tx.membership.deleteMany({
        where: { organizationId, userId, removalRequestedAt: { not: null } },
      })
      return true
    })
    if (finished) return { done: true }
  }
}
