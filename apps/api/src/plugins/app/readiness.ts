import { createDatabaseProbe } from '@repo/db'
import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import pTimeout from 'p-timeout'

export type DependencyState = 'up' | 'down'
export interface ReadinessChecks {
  postgres: DependencyState
  redis: DependencyState
}

/**
 * What /readyz reports, at a bounded cost whatever the request rate: one check of each
 * dependency at a time (callers during a check share its answer), and an answer reused
 * for READINESS_CACHE_MS. Postgres is checked on one connection of the probe's own (never
 * one per call, never the pool's); Redis on the shared client. So a flood of probes costs
 * Postgres one connection and a few queries a second, and readiness still follows a
 * dependency going down or coming back within READINESS_CACHE_MS + READINESS_TIMEOUT_MS.
 */
export default fp(
  async function readiness(fastify: FastifyInstance) {
    const timeout = fastify.config.READINESS_TIMEOUT_MS
    const maxAge = fastify.config.READINESS_CACHE_MS
    const database = createDatabaseProbe(fastify.config.DATABASE_URL)
    let last: { at: number; checks: ReadinessChecks } | undefined
    let inFlight: Promise<ReadinessChecks> | undefined

    const probe = async (name: keyof ReadinessChecks, check: () => Promise<unknown>) => {
      try {
        await pTimeout(check(), {
          milliseconds: timeout,
          message: `${name} timed out after ${timeout} ms`,
        })
        return 'up' as const
      } catch (err) {
        fastify.log.warn({ err, dependency: name }, 'readiness check failed')
        return 'down' as const
      }
    }
    const run = async (): Promise<ReadinessChecks> => {
      const [postgres, redis] = await Promise.all([
        probe('postgres', () => database.ping(timeout)),
        probe('redis', () => fastify.redis.ping()),
      ])
      last = { at: Date.now(), checks: { postgres, redis } }
      return last.checks
    }

    fastify.decorate('readiness', {
      check(): Promise<ReadinessChecks> {
        if (last && Date.now() - last.at < maxAge) return Promise.resolve(last.checks)
        inFlight ??= run().finally(() => {
          inFlight = undefined
        })
        return inFlight
      },
    })
    fastify.addHook('onClose', () => database.close())
  },
  { name: 'readiness', dependencies: ['redis'] },
)

declare module 'fastify' {
  interface FastifyInstance {
    readiness: { check(): Promise<ReadinessChecks> }
  }
}
