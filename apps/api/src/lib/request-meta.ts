import type { RequestMeta } from '@repo/core'
import type { FastifyRequest } from 'fastify'

/** Where a request came from, for sessions, the audit log and the jobs it starts. */
export function requestMeta(request: FastifyRequest): RequestMeta {
  return { ipAddress: request.ip, userAgent: request.headers['user-agent'], requestId: request.id }
}
