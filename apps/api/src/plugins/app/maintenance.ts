import {
  InvalidMaintenanceState,
  type MaintenanceWindow,
  readMaintenance,
  secondsLeft,
} from '@repo/core'
import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import { problem, sendProblem } from '../../lib/problem.ts'

/** What changes state. GET, HEAD and OPTIONS (CORS preflights) pass in maintenance mode. */
const WRITES = new Set(['POST', 'PUT', 'PATCH', 'DELETE'])

/**
 * Read-only maintenance mode (`pnpm ops maintenance on|off`, docs/decisions/025). Each
 * instance reads the window from Redis every MAINTENANCE_REFRESH_MS, so opening or closing
 * it reaches every instance within that long, and no request waits on Redis for it.
 * While a window is open, every state-changing request answers 503 problem+json with the
 * operator's message and Retry-After (the seconds until the window ends); reads, probes
 * and routes declaring `config.duringMaintenance` (ending a session) pass. /readyz stays
 * 200: an instance in maintenance is healthy and must keep serving reads.
 *
 * Redis unreachable: the last window read stays in force until its own end, then writes
 * open again; never closed for longer than the operator asked, never opened early
 * because Redis blinked. Each outage and each recovery is logged. An instance that
 * starts without Redis knows of no window (and /readyz reports Redis down meanwhile).
 */
export default fp(
  async function maintenance(fastify: FastifyInstance) {
    let window: MaintenanceWindow | null = null
    let failing = false
    let reading: Promise<void> | undefined

    const refresh = async () => {
      try {
        const read = await readMaintenance(fastify.redis)
        if (failing) fastify.log.info('maintenance window readable again')
        failing = false
        if (Boolean(read) !== Boolean(window) || read?.until !== window?.until)
          fastify.log.info(
            read ? { until: read.until, operator: read.operator } : {},
            read ? 'maintenance mode on: refusing writes' : 'maintenance mode off',
          )
        window = read
      } catch (err) {
        if (!failing)
          fastify.log[err instanceof InvalidMaintenanceState ? 'error' : 'warn'](
            { err, keptUntil: window?.until ?? null },
            'cannot read the maintenance window; the last one read stays until its end',
          )
        failing = true
      }
    }
    const tick = () => {
      reading ??= refresh().finally(() => {
        reading = undefined
      })
      return reading
    }
    const timer = setInterval(tick, fastify.config.MAINTENANCE_REFRESH_MS)
    timer.unref()
    // Known before the first request when Redis answers at start-up (redis's onReady runs first).
    fastify.addHook('onReady', tick)
    fastify.addHook('onClose', async () => clearInterval(timer))

    fastify.decorate('maintenanceWindow', () =>
      window && Date.parse(window.until) > Date.now() ? window : null,
    )

    fastify.addHook('onRequest', async (request, reply) => {
      if (!WRITES.has(request.method)) return
      const open = fastify.maintenanceWindow()
      if (!open || request.routeOptions.config?.duringMaintenance) return
      reply.header('retry-after', String(secondsLeft(open)))
      return sendProblem(
        reply,
        problem(503, {
          type: 'urn:groundwork:problem:maintenance',
          detail: open.message,
          maintenanceUntil: open.until,
        }),
      )
    })
  },
  { name: 'maintenance', dependencies: ['redis'] },
)

declare module 'fastify' {
  interface FastifyInstance {
    /** The open maintenance window as this instance last read it, or null. */
    maintenanceWindow(): MaintenanceWindow | null
  }
  interface FastifyContextConfig {
    /** This state-changing route still answers in maintenance mode (ending a session). */
    duringMaintenance?: true
  }
}
