import { type Analytics, analyticsConfigFromEnv, createAnalytics } from '@repo/observability'
import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'

/** Product analytics (PostHog); inactive without POSTHOG_KEY. Flushed on shutdown. */
export default fp(
  async function analytics(fastify: FastifyInstance) {
    const client = createAnalytics(analyticsConfigFromEnv(fastify.config))
    fastify.decorate('analytics', client)
    fastify.addHook('onClose', async () => {
      await client.shutdown()
    })
  },
  { name: 'analytics' },
)

declare module 'fastify' {
  interface FastifyInstance {
    analytics: Analytics
  }
}
