import underPressure from '@fastify/under-pressure'
import { AppError } from '@repo/core'
import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'

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
      // Rejecting hands the answer to the one error handler (problem+json, Retry-After).
      // Sending from here would not stop the request while async onSend hooks still run.
      pressureHandler: async (request, _reply, type, value) => {
        if (request.url === '/healthz') return
        request.log.warn({ type, value }, 'shedding load')
        throw new AppError({
          code: 'overloaded',
          status: 503,
          userMessage: `The service is busy. Try again in ${RETRY_AFTER_SECONDS} seconds.`,
          retryAfterSeconds: RETRY_AFTER_SECONDS,
        })
      },
    })
  },
  { name: 'under-pressure' },
)
