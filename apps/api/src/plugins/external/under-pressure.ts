import underPressure from '@fastify/under-pressure'
import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import { problem, sendProblem } from '../../lib/problem.ts'

const RETRY_AFTER_SECONDS = 5

/**
 * Load shedding: when the event loop lags or is saturated, answer 503 with Retry-After
 * at once rather than accept work that will time out. Liveness stays 200 (the process is
 * alive, just busy; restarting it would make things worse); readiness turns 503 so the
 * load balancer sends traffic elsewhere.
 */
export default fp(
  async function pressure(fastify: FastifyInstance) {
    const config = fastify.config
    await fastify.register(underPressure, {
      maxEventLoopDelay: config.PRESSURE_MAX_EVENT_LOOP_DELAY_MS,
      maxEventLoopUtilization: config.PRESSURE_MAX_EVENT_LOOP_UTILIZATION,
      sampleInterval: config.PRESSURE_SAMPLE_INTERVAL_MS,
      retryAfter: RETRY_AFTER_SECONDS,
      pressureHandler: (request, reply, type, value) => {
        if (request.url === '/healthz') {
          reply.send({ status: 'ok' })
          return
        }
        request.log.warn({ type, value }, 'shedding load')
        reply.header('retry-after', String(RETRY_AFTER_SECONDS))
        sendProblem(
          reply,
          problem(503, {
            type: 'urn:groundwork:problem:overloaded',
            detail: `The service is busy. Try again in ${RETRY_AFTER_SECONDS} seconds.`,
          }),
        )
      },
    })
  },
  { name: 'under-pressure' },
)
