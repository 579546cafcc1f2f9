import { createDatabaseClient, type PrismaClient } from '@repo/db'
import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'

/**
 * The Prisma client for this app instance (one per process in production). Connects
 * lazily, so the API starts and reports not-ready while Postgres is down.
 */
export default fp(
  async function db(fastify: FastifyInstance) {
    const client = createDatabaseClient(fastify.config)
    fastify.decorate('db', client)
    fastify.addHook('onClose', async () => {
      await client.$disconnect()
    })
  },
  { name: 'db' },
)

declare module 'fastify' {
  interface FastifyInstance {
    db: PrismaClient
  }
}
