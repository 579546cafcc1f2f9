import type { CoreDeps } from '@repo/core'
import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'

/** What business functions in @repo/core need, built once from config. */
export default fp(
  async function core(fastify: FastifyInstance) {
    fastify.decorate('deps', {
      db: fastify.db,
      redis: fastify.redis,
      sessionPolicy: {
        idleTimeoutMs: fastify.config.SESSION_IDLE_TIMEOUT_HOURS * 3_600_000,
        absoluteLifetimeMs: fastify.config.SESSION_ABSOLUTE_LIFETIME_DAYS * 86_400_000,
      },
    } satisfies CoreDeps)
  },
  { name: 'core', dependencies: ['db', 'redis'] },
)

declare module 'fastify' {
  interface FastifyInstance {
    deps: CoreDeps
  }
}
