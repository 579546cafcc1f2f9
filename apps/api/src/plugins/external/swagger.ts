import swagger from '@fastify/swagger'
import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import { jsonSchemaTransform, jsonSchemaTransformObject } from 'fastify-type-provider-zod'

/** OpenAPI 3.1 generated from the routes' zod schemas, served at GET /openapi.json. */
export default fp(
  async function openapi(fastify: FastifyInstance) {
    await fastify.register(swagger, {
      openapi: {
        openapi: '3.1.0',
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
      transform: jsonSchemaTransform,
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
