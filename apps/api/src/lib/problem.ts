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

export function problem(
  status: number,
  fields: Partial<Problem> & Record<string, unknown> = {},
): Problem {
  return { type: 'about:blank', title: STATUS_CODES[status] ?? 'Error', status, ...fields }
}

export function sendProblem(reply: FastifyReply, body: Problem): FastifyReply {
  return reply.code(body.status).type('application/problem+json; charset=utf-8').send(body)
}
