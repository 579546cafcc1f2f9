import { createInvitation, listInvitations, resendInvitation, revokeInvitation } from '@repo/core'
import {
  invitationParams,
  inviteMemberInput,
  listQuery,
  orgParams,
  roleSchema,
} from '@repo/schemas'
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod'
import { z } from 'zod'
import { problemSchema } from '../../../lib/problem.ts'
import { PRODUCT_EVENTS, trackProductEvent } from '../../../lib/product-events.ts'
import { requestMeta } from '../../../lib/request-meta.ts'
import { pageOf, tenantProblems } from '../../../schemas/common.ts'

const invitationSchema = z
  .object({
    id: z.string(),
    email: z.string(),
    role: roleSchema,
    expiresAt: z.iso.datetime(),
    createdAt: z.iso.datetime(),
  })
  .meta({ id: 'Invitation' })
const toInvitation = (i: {
  id: string
  email: string
  role: 'owner' | 'admin' | 'member'
  expiresAt: Date
  createdAt: Date
}) => ({
  id: i.id,
  email: i.email,
  role: i.role,
  expiresAt: i.expiresAt.toISOString(),
  createdAt: i.createdAt.toISOString(),
})

/** Invitations of an organization: /v1/orgs/:orgId/invitations/* (admins and owners). */
const invitations: FastifyPluginAsyncZod = async (fastify) => {
  // Invitation emails reach any address: a bucket of their own per inviting user and per
  // organization (invitations and resends together), instead of the default user and
  // organization buckets (the per-IP default still applies).
  const inviteLimits = {
    user: fastify.config.INVITATION_RATE_LIMIT_USER_PER_MINUTE,
    organization: fastify.config.INVITATION_RATE_LIMIT_ORG_PER_MINUTE,
    bucket: 'invitation-emails',
  }
  fastify.post(
    '/:orgId/invitations',
    {
      config: { access: { organizationRole: 'admin' }, recentAuth: true, limits: inviteLimits },
      schema: {
        tags: ['organizations'],
        summary:
          'Invite someone by email (a role no higher than yours); the invitation is emailed.',
        params: orgParams,
        body: inviteMemberInput,
        response: { 201: invitationSchema, ...tenantProblems, 409: problemSchema },
      },
    },
    async (request, reply) => {
      const tenant = request.tenant as NonNullable<typeof request.tenant>
      const auth = request.auth as NonNullable<typeof request.auth>
      const invitation = await createInvitation(
        fastify.deps,
        { ...tenant, emailVerified: auth.user.emailVerifiedAt !== null },
        { ...request.body, inviterName: auth.user.name },
        requestMeta(request),
      )
      trackProductEvent(request, PRODUCT_EVENTS.memberInvited, {
        userId: tenant.userId,
        organizationId: tenant.organizationId,
        properties: { role: invitation.role },
      })
      return reply.code(201).send(toInvitation(invitation))
    },
  )

  fastify.get(
    '/:orgId/invitations',
    {
      config: { access: { organizationRole: 'admin' } },
      schema: {
        tags: ['organizations'],
        summary: 'Pending invitations.',
        params: orgParams,
        querystring: listQuery,
        response: {
          200: pageOf(invitationSchema),
          ...tenantProblems,
        },
      },
    },
    async (request) => {
      const tenant = request.tenant as NonNullable<typeof request.tenant>
      const page = await listInvitations(fastify.deps, tenant, request.query)
      return { data: page.data.map(toInvitation), nextCursor: page.nextCursor }
    },
  )

  fastify.delete(
    '/:orgId/invitations/:invitationId',
    {
      config: { access: { organizationRole: 'admin' } },
      schema: {
        tags: ['organizations'],
        summary: 'Revoke a pending invitation.',
        params: invitationParams,
        response: { 204: z.null(), ...tenantProblems },
      },
    },
    async (request, reply) => {
      const tenant = request.tenant as NonNullable<typeof request.tenant>
      await revokeInvitation(
        fastify.deps,
        tenant,
        { invitationId: request.params.invitationId },
        requestMeta(request),
      )
      return reply.code(204).send(null)
    },
  )

  fastify.post(
    '/:orgId/invitations/:invitationId/resend',
    {
      config: { access: { organizationRole: 'admin' }, recentAuth: true, limits: inviteLimits },
      schema: {
        tags: ['organizations'],
        summary: 'Email a pending invitation again with a new link and expiry.',
        params: invitationParams,
        response: { 202: z.null(), ...tenantProblems },
      },
    },
    async (request, reply) => {
      const tenant = request.tenant as NonNullable<typeof request.tenant>
      const auth = request.auth as NonNullable<typeof request.auth>
      await resendInvitation(
        fastify.deps,
        { ...tenant, emailVerified: auth.user.emailVerifiedAt !== null },
        { invitationId: request.params.invitationId, inviterName: auth.user.name },
        requestMeta(request),
      )
      return reply.code(202).send(null)
    },
  )
}

export default invitations
