import { changeMemberRole, listMembers, removeMember } from '@repo/core'
import { changeRoleInput, listQuery, memberParams, orgParams, roleSchema } from '@repo/schemas'
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod'
import { z } from 'zod'
import { problemSchema } from '../../../lib/problem.ts'
import { requestMeta } from '../../../lib/request-meta.ts'
import { pageOf, tenantProblems } from '../../../schemas/common.ts'

const memberSchema = z
  .object({
    userId: z.string(),
    email: z.string(),
    name: z.string(),
    role: roleSchema,
    joinedAt: z.iso.datetime(),
    removalRequestedAt: z.iso
      .datetime()
      .nullable()
      .describe(
        'Set while a removed member still has tasks being unassigned: they have no access, and disappear once it is done.',
      ),
  })
  .meta({ id: 'Member' })
const removingSchema = z
  .object({
    userId: z.string(),
    status: z.literal('removing'),
    tasksToUnassign: z.number().int(),
  })
  .meta({ id: 'MemberRemoval' })

/** Members of an organization: /v1/orgs/:orgId/members/* */
const members: FastifyPluginAsyncZod = async (fastify) => {
  fastify.get(
    '/:orgId/members',
    {
      config: { access: { organizationRole: 'member', apiKeyScope: 'members:read' } },
      schema: {
        tags: ['organizations'],
        summary: 'The members of the organization.',
        params: orgParams,
        querystring: listQuery,
        response: {
          200: pageOf(memberSchema),
          ...tenantProblems,
        },
      },
    },
    async (request) => {
      const tenant = request.tenant as NonNullable<typeof request.tenant>
      const page = await listMembers(fastify.deps, tenant, request.query)
      return {
        data: page.data.map((m) => ({
          ...m,
          joinedAt: m.joinedAt.toISOString(),
          removalRequestedAt: m.removalRequestedAt?.toISOString() ?? null,
        })),
        nextCursor: page.nextCursor,
      }
    },
  )

  fastify.patch(
    '/:orgId/members/:userId',
    {
      config: { access: { organizationRole: 'admin' }, recentAuth: true },
      schema: {
        tags: ['organizations'],
        summary: "Change a member's role (owners only for the owner role; never the last owner).",
        params: memberParams,
        body: changeRoleInput,
        response: {
          200: z.object({ userId: z.string(), role: roleSchema }),
          ...tenantProblems,
          409: problemSchema,
        },
      },
    },
    async (request) => {
      const tenant = request.tenant as NonNullable<typeof request.tenant>
      const updated = await changeMemberRole(
        fastify.deps,
        tenant,
        { userId: request.params.userId, role: request.body.role },
        requestMeta(request),
      )
      return { userId: updated.userId, role: updated.role }
    },
  )

  fastify.delete(
    '/:orgId/members/:userId',
    {
      // Any member may remove themself (leave); removing others is checked in core (admin+).
      config: {
        access: { organizationRole: 'member' },
        // Leaving is always allowed; removing someone else is a sensitive action.
        recentAuth: (request) =>
          (request.params as { userId: string }).userId !== request.auth?.userId,
      },
      schema: {
        tags: ['organizations'],
        summary: 'Remove a member, or leave (your own user id). Never the last owner.',
        description:
          'Access ends at once. 204 when done; 202 when the member has more tasks than one batch: they are unassigned in the background, and the member list shows the removal until it is finished.',
        params: memberParams,
        response: { 202: removingSchema, 204: z.null(), ...tenantProblems, 409: problemSchema },
      },
    },
    async (request, reply) => {
      const tenant = request.tenant as NonNullable<typeof request.tenant>
      const result = await removeMember(
        fastify.deps,
        tenant,
        { userId: request.params.userId },
        requestMeta(request),
      )
      if (result.status === 'removing')
        return reply.code(202).send({ userId: request.params.userId, ...result })
      return reply.code(204).send(null)
    },
  )
}

export default members
