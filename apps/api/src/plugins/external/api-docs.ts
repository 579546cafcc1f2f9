import apiReference from '@scalar/fastify-api-reference'
import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'

const PREFIX = '/docs'

/**
 * The interactive API reference (Scalar) at /docs, from the same OpenAPI document as
 * /openapi.json. Outside production by default (API_DOCS_ENABLED=auto); its routes are
 * public and kept out of the OpenAPI document.
 */
export default fp(
  async function apiDocs(fastify: FastifyInstance) {
    const setting = fastify.config.API_DOCS_ENABLED
    const enabled =
      setting === 'true' || (setting === 'auto' && fastify.config.NODE_ENV !== 'production')
    if (!enabled) return
    // Scalar registers its own routes; declare them public before the access check sees them.
    fastify.addHook('onRoute', (route) => {
      if (route.url === PREFIX || route.url.startsWith(`${PREFIX}/`)) {
        // `helmet` in route config is how @fastify/helmet takes per-route options.
        route.config = {
          ...route.config,
          access: 'public',
          // The reference page runs an inline bootstrap script: a CSP for these routes only.
          helmet: {
            contentSecurityPolicy: {
              directives: {
                defaultSrc: ["'self'"],
                scriptSrc: ["'self'", "'unsafe-inline'"],
                styleSrc: ["'self'", "'unsafe-inline'"],
                imgSrc: ["'self'", 'data:'],
                fontSrc: ["'self'", 'data:'],
                connectSrc: ["'self'"],
              },
            },
          },
        } as typeof route.config
        route.schema = { ...route.schema, hide: true }
      }
    })
    await fastify.register(apiReference, {
      routePrefix: PREFIX,
      configuration: { url: '/openapi.json', theme: 'default' },
    })
  },
  { name: 'api-docs', dependencies: ['openapi'] },
)
