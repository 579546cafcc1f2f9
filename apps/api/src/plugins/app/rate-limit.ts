import rateLimit from '@fastify/rate-limit'
import { AppError } from '@repo/core'
import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'

/**
 * Redis-backed rate limits, shared by every API instance. Routes opt in with
 * `config.rateLimit` (auth routes do, per IP). Over the limit: 429 problem+json with
 * Retry-After. If Redis is down, requests are let through and the error is logged:
 * availability wins over a limit we cannot count.
 */
export default fp(
  async function rateLimits(fastify: FastifyInstance) {
    await fastify.register(rateLimit, {
      global: false,
      redis: fastify.redis,
      nameSpace: 'groundwork:rl:',
      skipOnError: true,
      errorResponseBuilder: (_request, context) =>
        new AppError({
          code: 'rate_limited',
          status: 429,
          userMessage: `Too many requests. Try again in ${context.after}.`,
        }),
    })
  },
  { name: 'rate-limit', dependencies: ['redis'] },
)
