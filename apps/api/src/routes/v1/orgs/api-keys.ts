import { createApiKey, listApiKeys, revokeApiKey } from '@repo/core'
import { apiKeyParams, createApiKeyInput, listQuery, orgParams } from '@repo/schemas'
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod'
import { z } from 'zod'
import { PRODUCT_EVENTS, trackProductEvent } from '../../../lib/product-events.ts'
import { requestMeta } from '../../../lib/request-meta.ts'
import { pageOf, tenantProblems } from '../../../schemas/common.ts'

const apiKeySchema = z
  .object({
    id: z.string(),
    name: z.string(),
    prefix: z.string(),
    scopes: z.array(z.string()),
    lastUsedAt: z.iso.datetime().nullable(),
    expiresAt: z.iso.datetime().nullable(),
    createdAt: z.iso.datetime(),
  })
  .meta({ id: 'ApiKey' })
type ApiKeyRow = {
  id: string
  name: string
  prefix: string
  scopes: string[]
  lastUsedAt: Date | null
  expiresAt: Date | null
  createdAt: Date
}
const toApiKey = (k: ApiKeyRow) => ({
  id: k.id,
  name: k.name,
  prefix: k.prefix,
  scopes: k.scopes,
  lastUsedAt: k.lastUsedAt?.toISOString() ?? null,
  expiresAt: k.expiresAt?.toISOString() ?? null,
  createdAt: k.createdAt.toISOString(),
})

/** Organization API keys for machine clients: /v1/orgs/:orgId/api-keys/* (admins and owners). */
const apiKeys: FastifyPluginAsyncZod = async (fastify) => {
  fastify.post(
    '/:orgId/api-keys',
    {
      config: { access: { organizationRole: 'admin' }, recentAuth: true, answerHoldsSecret: true },
      schema: {
        tags: ['organizations'],
        summary:
          'Create an API key (needs a verified email). The key is shown once, in this answer.',
        params: orgParams,
        body: createApiKeyInput,
        response: { 201: apiKeySchema.extend({ key: z.string() }), ...tenantProblems },
      },
    },
    async (request, reply) => {
      const tenant = request.tenant as NonNullable<typeof request.tenant>
      const auth = request.auth as NonNullable<typeof request.auth>
      const { apiKey, key } = await createApiKey(
        fastify.deps,
        { ...tenant, emailVerified: auth.user.emailVerifiedAt !== null },
        request.body,
        requestMeta(request),
      )
      trackProductEvent(request, PRODUCT_EVENTS.apiKeyCreated, {
        userId: tenant.userId,
        organizationId: tenant.organizationId,
        properties: { scopes: request.body.scopes },
      })
      return reply.code(201).send({ ...toApiKey(apiKey), key })
    },
  )

  fastify.get(
    '/:orgId/api-keys',
    {
      config: { access: { organizationRole: 'admin' } },
      schema: {
        tags: ['organizations'],
        summary: "The organization's active API keys (never their secrets).",
        params: orgParams,
        querystring: listQuery,
        response: {
          200: pageOf(apiKeySchema),
          ...tenantProblems,
        },
      },
    },
    async (request) => {
      const tenant = request.tenant as NonNullable<typeof request.tenant>
      const page = await listApiKeys(fastify.deps, tenant, request.query)
      return { data: page.data.map(toApiKey), nextCursor: page.nextCursor }
    },
  )

  fastify.delete(
    '/:orgId/api-keys/:apiKeyId',
    {
      config: { access: { organizationRole: 'admin' } },
      schema: {
        tags: ['organizations'],
        summary: 'Revoke an API key; it stops working at once.',
        params: apiKeyParams,
        response: { 204: z.null(), ...tenantProblems },
      },
    },
    async (request, reply) => {
      const tenant = request.tenant as NonNullable<typeof request.tenant>
      await revokeApiKey(
        fastify.deps,
        tenant,
        { apiKeyId: request.params.apiKeyId },
        requestMeta(request),
      )
      return reply.code(204).send(null)
    },
  )
}

export default apiKeys
