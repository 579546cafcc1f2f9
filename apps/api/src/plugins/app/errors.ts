import { PasswordHashingBusyError } from '@repo/auth'
import { isAppError } from '@repo/core'
import { ClaimLostError } from '@repo/db'
import { captureError } from '@repo/observability'
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import fp from 'fastify-plugin'
import { hasZodFastifySchemaValidationErrors } from 'fastify-type-provider-zod'
import { databaseProblem } from '../../lib/database-errors.ts'
import { isDependencyDown } from '../../lib/dependency-errors.ts'
import { problem, sendProblem } from '../../lib/problem.ts'

/**
 * A 5xx to Sentry, with the ids that find its request, trace, user and organization. Only
 * here: 4xx answers (validation, mapped database refusals, expected domain errors) are the
 * caller's to fix and never reported.
 */
function reportServerError(error: unknown, request: FastifyRequest) {
  captureError(error, {
    requestId: request.id,
    userId: request.auth?.userId ?? request.tenant?.userId,
    organizationId: request.tenant?.organizationId,
    tags: { route: request.routeOptions.url, method: request.method },
  })
}

/**
 * One place turns every error into application/problem+json. 4xx bodies say what was
 * wrong and name the fields; 5xx bodies are generic and carry only the request id, while
 * the detail goes to the log and Sentry. Exported for plugins that set their own error
 * handler (the queue dashboard's library does): they install this one instead.
 */
export function handleError(error: FastifyError, request: FastifyRequest, reply: FastifyReply) {
  if (hasZodFastifySchemaValidationErrors(error)) {
    const where = error.validationContext ?? 'request'
    return sendProblem(
      reply,
      problem(400, {
        type: 'urn:groundwork:problem:validation',
        title: 'Invalid request',
        detail: `The ${where} is not valid.`,
        errors: error.validation.map((issue) => ({
          field: [where, ...issue.instancePath.split('/').filter(Boolean)].join('.'),
          message: issue.message ?? 'is invalid',
        })),
      }),
    )
  }
  if (isAppError(error)) {
    if (error.retryAfterSeconds !== undefined)
      reply.header('retry-after', String(error.retryAfterSeconds))
    if (error.status >= 500) {
      request.log.error({ err: error }, 'request failed')
      reportServerError(error, request)
    }
    return sendProblem(
      reply,
      problem(error.status, {
        type: `urn:groundwork:problem:${error.code}`,
        detail:
          error.status >= 500
            ? `An unexpected error occurred. Quote request id ${request.id} when reporting it.`
            : error.userMessage,
        ...(error.fields ? { errors: error.fields } : {}),
      }),
    )
  }
  if (error instanceof PasswordHashingBusyError) {
    reply.header('retry-after', '1')
    return sendProblem(
      reply,
      problem(503, {
        type: 'urn:groundwork:problem:busy',
        detail: 'Too many sign-ins are being checked right now. Try again in a second.',
      }),
    )
  }
  if (error instanceof ClaimLostError)
    return sendProblem(
      reply,
      problem(409, {
        type: 'urn:groundwork:problem:idempotency_claim_lost',
        detail:
          'A retry with this Idempotency-Key took over while this request was still running, so this request changed nothing. The retry answers for both.',
      }),
    )
  const mapped = databaseProblem(error)
  if (mapped) return sendProblem(reply, mapped)
  if (isDependencyDown(error)) {
    request.log.error({ err: error }, 'a dependency is unavailable')
    reportServerError(error, request)
    reply.header('retry-after', '5')
    return sendProblem(
      reply,
      problem(503, {
        type: 'urn:groundwork:problem:unavailable',
        detail: `The service is temporarily unavailable. Try again shortly (request id ${request.id}).`,
      }),
    )
  }
  const status = error.statusCode ?? 500
  if (status >= 400 && status < 500) {
    // Fastify's own client errors (bad JSON, body too large, wrong content type) carry
    // messages written for the caller; any other error's message is internal.
    const fromFastify = typeof error.code === 'string' && error.code.startsWith('FST_')
    return sendProblem(reply, problem(status, fromFastify ? { detail: error.message } : {}))
  }
  request.log.error({ err: error }, 'request failed')
  reportServerError(error, request)
  return sendProblem(
    reply,
    problem(status >= 500 && status < 600 ? status : 500, {
      detail: `An unexpected error occurred. Quote request id ${request.id} when reporting it.`,
    }),
  )
}

export default fp(
  async function errors(fastify: FastifyInstance) {
    fastify.setErrorHandler(handleError)

    fastify.setNotFoundHandler((request, reply) =>
      sendProblem(
        reply,
        problem(404, {
          detail: `No route for ${request.method} ${(request.url.split('?')[0] ?? '').slice(0, 200)}.`,
        }),
      ),
    )

    fastify.addHook('onSend', async (request, reply) => {
      reply.header('x-request-id', request.id)
    })
  },
  { name: 'errors' },
)
