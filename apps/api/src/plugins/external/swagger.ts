import swagger from '@fastify/swagger'
import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import { jsonSchemaTransform, jsonSchemaTransformObject } from 'fastify-type-provider-zod'
import { operationIdOf, securityOf } from '../../lib/openapi-operation.ts'

/**
 * OpenAPI 3.1 generated from the routes' zod schemas, served at GET /openapi.json. Each
 * operation's `security` comes from its declared access rule and, unless the route sets
 * one, its `operationId` from its method and path; the server is API_PUBLIC_URL (or this
 * origin). `packages/api-client/test/lint.test.ts` lints the result with Redocly's rules.
 */
export default fp(
  async function openapi(fastify: FastifyInstance) {
    await fastify.register(swagger, {
      openapi: {
        openapi: '3.1.0',
        servers: [
          fastify.config.API_PUBLIC_URL
            ? { url: fastify.config.API_PUBLIC_URL, description: 'This API' }
            : { url: '/', description: 'The origin this document was served from' },
        ],
        info: {
          title: 'Groundwork API',
          version: fastify.config.APP_VERSION,
          description:
            'Multi-tenant SaaS API. Every tenant-owned resource lives under /v1/orgs/{orgId}.',
        },
        components: {
          securitySchemes: {
            bearer: { type: 'http', scheme: 'bearer', description: 'Session token or API key' },
          },
        },
        tags: [
          { name: 'probes', description: 'Liveness, readiness and build information' },
          { name: 'auth', description: 'Accounts and sessions' },
          { name: 'organizations', description: 'Organizations (tenants) and membership' },
          {
            name: 'webhooks',
            description:
              'Outgoing webhooks: endpoints, signing secrets (Standard Webhooks), and the log of every delivery attempt',
          },
        ],
      },
      transform: (input) => {
        const transformed = jsonSchemaTransform(input)
        const declared = transformed.schema as { operationId?: string }
        const method = Array.isArray(input.route.method)
          ? input.route.method[0]
          : input.route.method
        return {
          ...transformed,
          schema: {
            ...transformed.schema,
            operationId: declared.operationId ?? operationIdOf(String(method), transformed.url),
            security: securityOf(input.route.config?.access),
          },
        }
      },
      transformObject: jsonSchemaTransformObject,
    })

    fastify.get(
      '/openapi.json',
      { config: { access: 'public' }, schema: { hide: true } },
      async () => fastify.swagger(),
    )
  },
  { name: 'openapi' },
)
