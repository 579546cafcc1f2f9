import { runWithLogContext } from '@repo/observability'
import {
  type FastifyBaseLogger,
  type FastifyInstance,
  type FastifyReply,
  type FastifyRequest,
  LogController,
} from 'fastify'

/** What the access plugin sets on a request once it knows who made it. */
interface Identified {
  auth?: { userId: string } | null
  tenant?: { organizationId: string; userId: string } | null
}

/** Probes answer every few seconds for ever: their lines are debug, not info. */
const QUIET_ROUTES = new Set(['/healthz', '/readyz'])

/**
 * Fastify's request log lines, replaced: no "incoming request" line, and one completion
 * line per request with the route's pattern (never the raw URL or its query string), the
 * status and the duration, plus who made it once known. Fastify's own lines that would
 * print the whole request or reply object print only what is needed.
 */
export class RequestLogController extends LogController {
  override incomingRequest() {}

  override requestCompleted(
    error: Error | null | undefined,
    request: FastifyRequest,
    reply: FastifyReply,
  ) {
    const { auth, tenant } = request as FastifyRequest & Identified
    const route = request.routeOptions.url
    const status = reply.statusCode
    const line = {
      method: request.method,
      // A URL no route matched is the caller's text: it stays out of the logs.
      route: route ?? '(no route)',
      status,
      durationMs: Math.round(reply.elapsedTime * 10) / 10,
      // Explicit, not only from the context: Fastify may call this outside it.
      requestId: request.id,
      ...(tenant ? { organizationId: tenant.organizationId } : {}),
      ...(auth || tenant ? { userId: tenant?.userId ?? auth?.userId } : {}),
      ...(error ? { err: error } : {}),
    }
    const log = request.log
    if (status >= 500) log.error(line, 'request completed')
    else if (route && QUIET_ROUTES.has(route)) log.debug(line, 'request completed')
    else log.info(line, 'request completed')
  }

  override defaultErrorLog(error: Error, request: FastifyRequest, reply: FastifyReply) {
    if (reply.statusCode >= 500) request.log.error({ err: error }, 'request failed')
  }

  override routeNotFound() {}

  override writeHeadError(error: Error, request: FastifyRequest) {
    request.log.warn({ err: error }, 'could not write the response head')
  }
}

/**
 * Every line logged while a request runs carries its request id, and its organization
 * and user once authentication resolves (the access plugin adds them), whoever writes it:
 * the route, a plugin, a core function. Entered as the first hook when the request
 * arrives; the rest of its lifecycle (body parsing included, over a real socket: tested)
 * runs inside it.
 */
export function installRequestLogContext(server: FastifyInstance) {
  server.addHook('onRequest', (request, _reply, done) => {
    runWithLogContext({ requestId: request.id }, done)
  })
}

/**
 * Fastify's per-request logger without its own request id binding: the id comes from the
 * log context (a binding too would print it twice).
 */
export function requestChildLogger(
  logger: FastifyBaseLogger,
  _bindings: unknown,
  options: object,
): FastifyBaseLogger {
  return Object.keys(options).length > 0 ? logger.child({}, options) : logger
}
