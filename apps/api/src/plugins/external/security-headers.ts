import cors from '@fastify/cors'
import helmet from '@fastify/helmet'
import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'

/**
 * Security headers on every answer (helmet), and CORS only for the origins listed in
 * CORS_ORIGINS: every other origin gets no Access-Control-Allow-Origin header.
 */
export default fp(
  async function securityHeaders(fastify: FastifyInstance) {
    await fastify.register(helmet, { global: true })
    await fastify.register(cors, {
      origin: fastify.config.CORS_ORIGINS.length > 0 ? fastify.config.CORS_ORIGINS : false,
      credentials: false,
      methods: ['GET', 'POST', 'PATCH', 'PUT', 'DELETE'],
      allowedHeaders: ['authorization', 'content-type', 'idempotency-key', 'x-request-id'],
      maxAge: 600,
    })
  },
  { name: 'security-headers' },
)
