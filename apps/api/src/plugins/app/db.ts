import { createDatabaseClient, type PrismaClient } from '@repo/db'
import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import type { AppOptions } from '../../app.ts'

/**
 * The Prisma client for this app instance (one per process in production). Connects
 * lazily, so the API starts and reports not-ready while Postgres is down.
 */
export default fp(
  async function db(fastify: FastifyInstance, options: AppOptions) {
    const client = createDatabaseClient(fastify.config, options.onQuery, fastify.log)
    fastify.decorate('db', client)
    // Open a connection and load the query compiler before traffic arrives, so the first
    // request (and the first readiness probe) does not pay for it. A database that is down
    // now is not fatal: readiness reports it until it answers.
    fastify.addHook('onReady', async () => {
      await client.$queryRaw`SELECT 1`.catch((err: unknown) =>
        fastify.log.warn({ err }, 'postgres not reachable at start-up; /readyz reports it'),
      )
    })
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
