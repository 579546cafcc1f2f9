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
        tags: [
          { name: 'probes', description: 'Liveness, readiness and build information' },
          { name: 'meta', description: 'API description' },
        ],
      },
      transform: jsonSchemaTransform,
      transformObject: jsonSchemaTransformObject,
    })

    fastify.get('/openapi.json', { schema: { hide: true } }, async () => fastify.swagger())
  },
  { name: 'openapi' },
)
