import { STATUS_CODES } from 'node:http'
import type { FastifyReply } from 'fastify'
import { z } from 'zod'

/** RFC 9457 problem details: the body of every error response. */
export const problemSchema = z
  .object({
    type: z.string(),
    title: z.string(),
    status: z.number().int(),
    detail: z.string().optional(),
    instance: z.string().optional(),
    errors: z.array(z.object({ field: z.string(), message: z.string() })).optional(),
  })
  .loose()
  .meta({ id: 'Problem' })

export type Problem = z.infer<typeof problemSchema>

/**
 * RFC 9110's phrases where Node's table still has RFC 7231's: an about:blank problem is
 * titled with "the recommended HTTP status phrase" (RFC 9457, 4.2.1).
 */
const RENAMED_BY_RFC_9110: Record<number, string> = {
  413: 'Content Too Large',
  422: 'Unprocessable Content',
}

export function problem(
  status: number,
  fields: Partial<Problem> & Record<string, unknown> = {},
): Problem {
  const title = RENAMED_BY_RFC_9110[status] ?? STATUS_CODES[status] ?? 'Error'
  return { type: 'about:blank', title, status, ...fields }
}

export function sendProblem(reply: FastifyReply, body: Problem): FastifyReply {
  return reply.code(body.status).type('application/problem+json; charset=utf-8').send(body)
}
