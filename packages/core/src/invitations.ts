import { generateSecret, hashSecret } from '@repo/auth'
import {
  type MembershipRole,
  Prisma,
  type TenantTransaction,
  withPresentedSecret,
  withTenant,
} from '@repo/db'
import { emailJob } from '@repo/jobs'
import { AppError, errors } from './app-error.ts'
import { recordAudit } from './audit.ts'
import type { CoreDeps, RequestMeta } from './context.ts'
import { sealEmailLink } from './email-links.ts'
import type { ActingMember } from './members.ts'
import { lockedActorRole } from './members.ts'
import { addToOutbox } from './outbox.ts'
import { NEWEST_FIRST, type PageRequest, pageQuery, toPage } from './pagination.ts'
import { roleAtLeast } from './resolve-membership.ts'
import { invalidLink } from './verify-email.ts'

const INVITATION_TTL_MS = 7 * 24 * 3_600_000

const pending = (now = new Date()) => ({
  acceptedAt: null,
  revokedAt: null,
  expiresAt: { gt: now },
})

/** Records the invitation email in the invitation's transaction (the outbox). */
async function emailInvitation(
  tx: TenantTransaction,
  deps: CoreDeps,
  invitation: {
    id: string
    organizationId: string
    email: string
    organizationName: string
    inviterName: string
  },
  token: string,
  meta: RequestMeta,
) {
  const url = new URL('/invitations/accept', deps.appUrl)
  url.searchParams.set('token', token)
  await addToOutbox(
    tx,
    emailJob,
    {
      template: 'invitation',
      to: invitation.email,
      name: invitation.email.split('@')[0] ?? invitation.email,
      sealedUrl: sealEmailLink(url, deps.secretsKey),
      organizationName: invitation.organizationName,
      inviterName: invitation.inviterName,
    },
    { organizationId: invitation.organizationId, meta },
  )
}

/**
 * Invites an email address into the organization with a role no higher than the
 * inviter's (only owners invite owners). The token is stored hashed and expires in 7
 * days; the email is recorded in the same transaction (the outbox).
 */
export async function createInvitation(
  deps: CoreDeps,
  actor: ActingMember & { emailVerified: boolean },
  input: { email: string; role: MembershipRole; inviterName: string },
  meta: RequestMeta = {},
) {
  // Invitations email any address: only from an account that proved its own, so a
  // throwaway sign-up cannot turn the product into a spam relay.
  if (!actor.emailVerified) throw errors.emailNotVerified('inviting people')
  if (!roleAtLeast(actor.role, input.role))
    throw errors.forbidden('You cannot invite someone with a role above your own.')
  const email = input.email.trim().toLowerCase()
  const token = generateSecret()
  const { invitation } = await withTenant(deps.db, actor, async (tx) => {
    // The role as of now, locked (it may have changed since the access check; a removal
    // or deletion asked for meanwhile waits for this transaction and then revokes it).
    const current = { role: await lockedActorRole(tx, actor) }
    if (!roleAtLeast(current.role, 'admin') || !roleAtLeast(current.role, input.role)) {
      throw errors.forbidden('You cannot invite someone with a role above your own.')
    }
    const member = await tx.membership.findFirst({ where: { user: { email } } })
    if (member) throw errors.conflict('already_member', 'This person is already a member.')
    try {
      const invitation = await tx.invitation.create({
        data: {
          organizationId: actor.organizationId,
          email,
          role: input.role,
          tokenHash: hashSecret(token),
          invitedById: actor.userId,
          expiresAt: new Date(Date.now() + INVITATION_TTL_MS),
        },
      })
      await recordAudit(tx, {
        action: 'invitation.created',
        organizationId: actor.organizationId,
        actorUserId: actor.userId,
        targetType: 'invitation',
        targetId: invitation.id,
        ipAddress: meta.ipAddress,
        metadata: { email, role: input.role },
      })
      const organization = await tx.organization.findUniqueOrThrow({
        where: { id: actor.organizationId },
      })
      // In the same transaction (the outbox): an invitation exists exactly with its email.
      await emailInvitation(
        tx,
        deps,
        {
          id: invitation.id,
          organizationId: actor.organizationId,
          email,
          organizationName: organization.name,
          inviterName: input.inviterName,
        },
        token,
        meta,
      )
      return { invitation, organizationName: organization.name }
    } catch (error) {
      if (error instanceof Prisma.PrismaClientKnownRequestError && error.code === 'P2002') {
        throw errors.conflict(
          'invitation_pending',
          'An invitation to this address is already pending. Resend it instead.',
        )
      }
      throw error
    }
  })
  return invitation
}

/** Only owners manage invitations that would make someone an owner. */
async function assertMayManage(tx: TenantTransaction, actor: ActingMember, invitationId: string) {
  const invitation = await tx.invitation.findUnique({ where: { id: invitationId } })
  if (invitation?.role === 'owner' && actor.role !== 'owner')
    throw errors.forbidden('Only an owner can manage an owner invitation.')
}

/** Pending invitations of the organization, newest first. */
export async function listInvitations(deps: CoreDeps, actor: ActingMember, page: PageRequest) {
  const query = pageQuery(page, NEWEST_FIRST)
  const rows = await withTenant(deps.db, actor, (tx) =>
    tx.invitation.findMany({ ...query, where: { ...pending(), ...query.where } }),
  )
  return toPage(rows, page, NEWEST_FIRST)
}

export async function revokeInvitation(
  deps: CoreDeps,
  actor: ActingMember,
  input: { invitationId: string },
  meta: RequestMeta = {},
) {
  await withTenant(deps.db, actor, async (tx) => {
    await assertMayManage(tx, actor, input.invitationId)
    const { count } = await tx.invitation.updateMany({
      where: { id: input.invitationId, ...pending() },
      data: { revokedAt: new Date() },
    })
    if (count === 0) throw errors.notFound('The invitation')
    await recordAudit(tx, {
      action: 'invitation.revoked',
      organizationId: actor.organizationId,
      actorUserId: actor.userId,
      targetType: 'invitation',
      targetId: input.invitationId,
      ipAddress: meta.ipAddress,
    })
  })
}

/** Sends a pending invitation again with a new token (the old link stops working) and a new expiry. */
export async function resendInvitation(
  deps: CoreDeps,
  actor: ActingMember & { emailVerified: boolean },
  input: { invitationId: string; inviterName: string },
  meta: RequestMeta = {},
) {
  if (!actor.emailVerified) throw errors.emailNotVerified('inviting people')
  const token = generateSecret()
  await withTenant(deps.db, actor, async (tx) => {
    await assertMayManage(tx, actor, input.invitationId)
    const { count } = await tx.invitation.updateMany({
      where: { id: input.invitationId, acceptedAt: null, revokedAt: null },
      data: { tokenHash: hashSecret(token), expiresAt: new Date(Date.now() + INVITATION_TTL_MS) },
    })
    if (count === 0) throw errors.notFound('The invitation')
    await recordAudit(tx, {
      action: 'invitation.resent',
      organizationId: actor.organizationId,
      actorUserId: actor.userId,
      targetType: 'invitation',
      targetId: input.invitationId,
      ipAddress: meta.ipAddress,
    })
    const invitation = await tx.invitation.findUniqueOrThrow({
      where: { id: input.invitationId },
      include: { organization: true },
    })
    await emailInvitation(
      tx,
      deps,
      {
        id: invitation.id,
        organizationId: actor.organizationId,
        email: invitation.email,
        organizationName: invitation.organization.name,
        inviterName: input.inviterName,
      },
      token,
      meta,
    )
  })
}

/**
 * Joins the organization with an invitation token. Only a signed-in user whose
 * *verified* email is the invited one may accept; the token works once (claimed by a
 * conditional UPDATE), even when accepted twice at the same moment.
 */
export async function acceptInvitation(
  deps: CoreDeps,
  input: { user: { id: string; email: string; emailVerifiedAt: Date | null }; token: string },
  meta: RequestMeta = {},
) {
  if (!input.user.emailVerifiedAt) {
    throw errors.emailNotVerified('accepting an invitation')
  }
  if (!/^[A-Za-z0-9_-]{43}$/.test(input.token)) throw invalidLink()
  const tokenHash = hashSecret(input.token)
  const invitation = await withPresentedSecret(deps.db, tokenHash, (tx) =>
    tx.invitation.findUnique({ where: { tokenHash } }),
  )
  if (
    !invitation ||
    invitation.acceptedAt ||
    invitation.revokedAt ||
    invitation.expiresAt <= new Date()
  )
    throw invalidLink()
  if (invitation.email !== input.user.email) {
    throw new AppError({
      code: 'invitation_email_mismatch',
      status: 403,
      userMessage: 'This invitation was sent to another email address.',
    })
  }
  return withTenant(
    deps.db,
    { organizationId: invitation.organizationId, userId: input.user.id },
    async (tx) => {
      const claimed = await tx.invitation.updateMany({
        where: { id: invitation.id, tokenHash, ...pending() },
        data: { acceptedAt: new Date() },
      })
      if (claimed.count !== 1) throw invalidLink()
      try {
        await tx.membership.create({
          data: {
            organizationId: invitation.organizationId,
            userId: input.user.id,
            role: invitation.role,
          },
        })
      } catch (error) {
        if (error instanceof Prisma.PrismaClientKnownRequestError && error.code === 'P2002') {
          throw errors.conflict('already_member', 'You are already a member of this organization.')
        }
        throw error
      }
      await recordAudit(tx, {
        action: 'member.joined',
        organizationId: invitation.organizationId,
        actorUserId: input.user.id,
        targetType: 'invitation',
        targetId: invitation.id,
        ipAddress: meta.ipAddress,
        metadata: { role: invitation.role },
      })
      const organization = await tx.organization.findUniqueOrThrow({
        where: { id: invitation.organizationId },
      })
      return { ...organization, role: invitation.role }
    },
  )
}
