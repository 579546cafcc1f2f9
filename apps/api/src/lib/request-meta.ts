import type { RequestMeta } from '@repo/core'
import type { FastifyRequest } from 'fastify'

/** Where a request came from, for sessions and the audit log. */
export function requestMeta(request: FastifyRequest): RequestMeta {
  return { ipAddress: request.ip, userAgent: request.headers['user-agent'] }
}
