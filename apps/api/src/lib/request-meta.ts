import { clientNetwork, type RequestMeta } from '@repo/core'
import type { FastifyRequest } from 'fastify'

/** Where a request came from, for sessions, the audit log, limits and the jobs it starts. */
export function requestMeta(request: FastifyRequest): RequestMeta {
  return {
    ipAddress: request.ip,
    clientNetwork: clientNetwork(request.ip, request.server.config.RATE_LIMIT_IPV6_PREFIX),
    userAgent: request.headers['user-agent'],
    requestId: request.id,
  }
}
