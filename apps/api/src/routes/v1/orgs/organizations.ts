import {
  createOrganization,
  deleteOrganization,
  getOrganization,
  listOrganizations,
  renameOrganization,
} from '@repo/core'
import {
  createOrganizationInput,
  listQuery,
  orgParams,
  renameOrganizationInput,
} from '@repo/schemas'
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod'
import { PRODUCT_EVENTS, trackProductEvent } from '../../../lib/product-events.ts'
import { requestMeta } from '../../../lib/request-meta.ts'
import {
  authProblems,
  organizationSchema,
  pageOf,
  tenantProblems,
  toOrganization,
} from '../../../schemas/common.ts'

/** Organizations (the tenants): /v1/orgs/* */
const orgs: FastifyPluginAsyncZod = async (fastify) => {
  fastify.post(
    '/',
    {
      config: { access: 'authenticated' },
      schema: {
        tags: ['organizations'],
        summary: 'Create an organization; the caller becomes its owner.',
        body: createOrganizationInput,
        response: { 201: organizationSchema, ...authProblems },
      },
    },
    async (request, reply) => {
      const auth = request.auth as NonNullable<typeof request.auth>
      const organization = await createOrganization(
        fastify.deps,
        { userId: auth.userId, name: request.body.name },
        requestMeta(request),
      )
      trackProductEvent(request, PRODUCT_EVENTS.organizationCreated, {
        userId: auth.userId,
        organizationId: organization.id,
      })
      return reply.code(201).send(toOrganization(organization))
    },
  )

  fastify.get(
    '/',
    {
      config: { access: 'authenticated' },
      schema: {
        tags: ['organizations'],
        summary: 'The organizations the caller belongs to, oldest membership first.',
        querystring: listQuery,
        response: {
          200: pageOf(organizationSchema),
          ...authProblems,
        },
      },
    },
    async (request) => {
      const auth = request.auth as NonNullable<typeof request.auth>
      const page = await listOrganizations(fastify.deps, { userId: auth.userId }, request.query)
      return { data: page.data.map(toOrganization), nextCursor: page.nextCursor }
    },
  )

  fastify.get(
    '/:orgId',
    {
      config: {
        access: {
          organizationRole: 'member',
          apiKeyScope: 'organization:read',
          duringDeletion: true,
        },
      },
      schema: {
        tags: ['organizations'],
        summary: 'One organization the caller belongs to (also while it is being deleted).',
        params: orgParams,
        response: { 200: organizationSchema, ...tenantProblems },
      },
    },
    async (request) => {
      const tenant = request.tenant as NonNullable<typeof request.tenant>
      const organization = await getOrganization(fastify.deps, tenant)
      return toOrganization({ ...organization, role: tenant.role })
    },
  )

  fastify.patch(
    '/:orgId',
    {
      config: { access: { organizationRole: 'admin' } },
      schema: {
        tags: ['organizations'],
        summary: 'Rename the organization (admin or owner).',
        params: orgParams,
        body: renameOrganizationInput,
        response: { 200: organizationSchema, ...tenantProblems },
      },
    },
    async (request) => {
      const tenant = request.tenant as NonNullable<typeof request.tenant>
      const organization = await renameOrganization(
        fastify.deps,
        { ...tenant, name: request.body.name },
        requestMeta(request),
      )
      return toOrganization({ ...organization, role: tenant.role })
    },
  )

  fastify.delete(
    '/:orgId',
    {
      config: { access: { organizationRole: 'owner', duringDeletion: true }, recentAuth: true },
      schema: {
        tags: ['organizations'],
        summary: 'Delete the organization and everything in it (owner only).',
        description:
          'Closes it at once (every other route in it answers 409) and empties it in the background; it disappears when done. 202 with its state; asking again answers the same.',
        params: orgParams,
        response: { 202: organizationSchema, ...tenantProblems },
      },
    },
    async (request, reply) => {
      const tenant = request.tenant as NonNullable<typeof request.tenant>
      // Destroying everything is a sensitive action: a recent second factor when MFA is on.
      const organization = await deleteOrganization(fastify.deps, tenant, requestMeta(request))
      return reply.code(202).send(toOrganization({ ...organization, role: tenant.role }))
    },
  )
}

export default orgs
