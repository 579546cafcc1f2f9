import { listAuditLog } from '@repo/core'
import { listAuditLogQuery, orgParams } from '@repo/schemas'
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod'
import { z } from 'zod'
import { pageOf, tenantProblems } from '../../../schemas/common.ts'

const entrySchema = z
  .object({
    id: z.string(),
    action: z.string().meta({ example: 'member.role_changed' }),
    actor: z
      .object({
        id: z.string(),
        name: z.string().nullable(),
        email: z.string().nullable(),
      })
      .nullable()
      .describe(
        'Who did it; null for the system. Name and email only while they are a member of the organization.',
      ),
    targetType: z.string().nullable().meta({ example: 'user' }),
    targetId: z.string().nullable(),
    ipAddress: z
      .string()
      .nullable()
      .describe('Shown to owners, and to an admin for their own actions; null otherwise.'),
    metadata: z.record(z.string(), z.unknown()),
    createdAt: z.iso.datetime(),
  })
  .meta({ id: 'AuditLogEntry' })

/** The organization's audit log: /v1/orgs/:orgId/audit-log (admins and owners). */
const auditLog: FastifyPluginAsyncZod = async (fastify) => {
  fastify.get(
    '/:orgId/audit-log',
    {
      config: { access: { organizationRole: 'admin' } },
      schema: {
        tags: ['organizations'],
        summary:
          "The organization's audit log, newest first: who changed members, invitations, keys, webhooks and the organization itself.",
        params: orgParams,
        querystring: listAuditLogQuery,
        response: { 200: pageOf(entrySchema), ...tenantProblems },
      },
    },
    async (request) => {
      const tenant = request.tenant as NonNullable<typeof request.tenant>
      const { since, until, ...filters } = request.query
      const page = await listAuditLog(fastify.deps, tenant, {
        ...filters,
        since: since ? new Date(since) : undefined,
        until: until ? new Date(until) : undefined,
      })
      return {
        data: page.data.map((entry) => ({ ...entry, createdAt: entry.createdAt.toISOString() })),
        nextCursor: page.nextCursor,
      }
    },
  )
}

export default auditLog
