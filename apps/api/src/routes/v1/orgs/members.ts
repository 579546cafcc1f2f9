import { changeMemberRole, listMembers, removeMember } from '@repo/core'
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod'
import { z } from 'zod'
import { problemSchema } from '../../../lib/problem.ts'
import { requestMeta } from '../../../lib/request-meta.ts'
import { idSchema, listQuery, pageOf, roleSchema, tenantProblems } from '../../../schemas/common.ts'

const memberSchema = z
  .object({
    userId: z.string(),
    email: z.string(),
    name: z.string(),
    role: roleSchema,
    joinedAt: z.iso.datetime(),
  })
  .meta({ id: 'Member' })
const params = z.object({ orgId: idSchema })
const memberParams = z.object({ orgId: idSchema, userId: idSchema })

/** Members of an organization: /v1/orgs/:orgId/members/* */
const members: FastifyPluginAsyncZod = async (fastify) => {
  fastify.get(
    '/:orgId/members',
    {
      config: { access: { organizationRole: 'member', apiKeyScope: 'members:read' } },
      schema: {
        tags: ['organizations'],
        summary: 'The members of the organization.',
        params,
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
        data: page.data.map((m) => ({ ...m, joinedAt: m.joinedAt.toISOString() })),
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
        body: z.object({ role: roleSchema }).strict(),
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
        params: memberParams,
        response: { 204: z.null(), ...tenantProblems, 409: problemSchema },
      },
    },
    async (request, reply) => {
      const tenant = request.tenant as NonNullable<typeof request.tenant>
      await removeMember(
        fastify.deps,
        tenant,
        { userId: request.params.userId },
        requestMeta(request),
      )
      return reply.code(204).send(null)
    },
  )
}

export default members
