import { AppError, errors, recordAudit } from '@repo/core'
import { withUser } from '@repo/db'
import {
  type DeadLetter,
  getDeadLetter,
  listDeadLetters,
  purgeDeadLetters,
  replayAllDeadLetters,
  replayDeadLetter,
} from '@repo/jobs'
import { deadLetterParams, listDeadLettersQuery } from '@repo/schemas'
import type { FastifyRequest } from 'fastify'
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod'
import pTimeout from 'p-timeout'
import { z } from 'zod'
import { problemSchema } from '../../../lib/problem.ts'
import { authProblems, pageOf } from '../../../schemas/common.ts'

const deadLetterSchema = z
  .object({
    id: z.string(),
    queue: z.string(),
    jobId: z.string(),
    name: z.string(),
    data: z.unknown(),
    error: z.string(),
    stack: z.string().nullable(),
    attempts: z.array(z.object({ attempt: z.number().int(), stack: z.string() })),
    attemptsMade: z.number().int(),
    options: z.record(z.string(), z.unknown()),
    failedAt: z.string(),
    firstEnqueuedAt: z.string(),
  })
  .meta({ id: 'DeadLetter' })

const adminProblems = { ...authProblems, 403: problemSchema }
const access = { access: 'platformAdmin' } as const
// Changing dead letters replays or destroys work: a recent sign-in or step-up first.
const change = { access: 'platformAdmin', recentAuth: true } as const
const REDIS_BUDGET_MS = 3_000

/** Opaque to clients: the offset of the next page, base64url. */
const encodeOffset = (offset: number) => Buffer.from(String(offset)).toString('base64url')
function decodeOffset(cursor: string | undefined) {
  if (cursor === undefined) return 0
  const text = Buffer.from(cursor, 'base64url').toString('utf8')
  if (!/^\d{1,9}$/.test(text)) throw errors.invalid('querystring.cursor', 'is not valid')
  return Number(text)
}

const toDeadLetter = (entry: DeadLetter) => ({ ...entry, options: { ...entry.options } })

/** Dead letters for platform operators: /v1/admin/dead-letters/* (also `pnpm jobs dlq`). */
const deadLetters: FastifyPluginAsyncZod = async (fastify) => {
  // Looked up per request: a queue opened while Redis was down is replaced once it is back.
  const dlqNow = () => fastify.queues.deadLetters
  // BullMQ waits for a connection it does not have: answer 503 rather than hang.
  const inTime = <T>(work: Promise<T>) =>
    pTimeout(work, {
      milliseconds: REDIS_BUDGET_MS,
      message: `the job store timed out after ${REDIS_BUDGET_MS} ms`,
    }).catch((error: Error) => {
      if (!error.message.includes('timed out')) throw error
      throw new AppError({
        code: 'unavailable',
        status: 503,
        userMessage: 'The job store (Redis) is not answering. Try again shortly.',
        retryAfterSeconds: 5,
      })
    })
  const queueFor = (name: string) => fastify.queues.get(name)
  // Operators' changes to dead letters are audited (who, what, from where).
  const audit = (
    request: FastifyRequest,
    action: string,
    metadata: Record<string, string | number>,
  ) => {
    // Platform operators are signed-in users (access 'platformAdmin' refuses API keys).
    const userId = (request.auth as NonNullable<typeof request.auth>).userId
    return withUser(fastify.db, userId, (tx) =>
      recordAudit(tx, {
        action,
        actorUserId: userId,
        targetType: 'dead_letter',
        ipAddress: request.ip,
        metadata,
      }),
    )
  }

  fastify.get(
    '/dead-letters',
    {
      config: access,
      schema: {
        tags: ['admin'],
        summary: 'Jobs that failed for good, newest first.',
        querystring: listDeadLettersQuery,
        response: {
          200: pageOf(deadLetterSchema).extend({ total: z.number().int() }),
          ...adminProblems,
        },
      },
    },
    async (request) => {
      const offset = decodeOffset(request.query.cursor)
      const page = await inTime(listDeadLetters(dlqNow(), offset, request.query.limit))
      const next = offset + page.data.length
      return {
        data: page.data.map(toDeadLetter),
        nextCursor: next < page.total && page.data.length > 0 ? encodeOffset(next) : null,
        total: page.total,
      }
    },
  )

  fastify.get(
    '/dead-letters/:id',
    {
      config: access,
      schema: {
        tags: ['admin'],
        summary: 'One dead letter: payload, error, and the stack of every attempt.',
        params: deadLetterParams,
        response: { 200: deadLetterSchema, ...adminProblems, 404: problemSchema },
      },
    },
    async (request) => {
      const entry = await inTime(getDeadLetter(dlqNow(), request.params.id))
      if (!entry) throw errors.notFound('The dead letter')
      return toDeadLetter(entry)
    },
  )

  fastify.post(
    '/dead-letters/:id/replay',
    {
      config: change,
      schema: {
        tags: ['admin'],
        summary: 'Put the job back on its queue with a fresh attempt budget.',
        params: deadLetterParams,
        response: {
          202: z.object({ replayed: z.literal(1) }),
          ...adminProblems,
          404: problemSchema,
        },
      },
    },
    async (request, reply) => {
      if (!(await inTime(replayDeadLetter(dlqNow(), request.params.id, queueFor))))
        throw errors.notFound('The dead letter')
      await audit(request, 'dead_letter.replayed', { deadLetterId: request.params.id })
      return reply.code(202).send({ replayed: 1 })
    },
  )

  fastify.post(
    '/dead-letters/replay-all',
    {
      config: change,
      schema: {
        tags: ['admin'],
        summary: 'Replay every dead letter.',
        response: { 202: z.object({ replayed: z.number().int() }), ...adminProblems },
      },
    },
    async (request, reply) => {
      const replayed = await inTime(replayAllDeadLetters(dlqNow(), queueFor))
      await audit(request, 'dead_letter.replayed_all', { replayed })
      return reply.code(202).send({ replayed })
    },
  )

  fastify.delete(
    '/dead-letters/:id',
    {
      config: change,
      schema: {
        tags: ['admin'],
        summary: 'Purge one dead letter.',
        params: deadLetterParams,
        response: { 204: z.null(), ...adminProblems, 404: problemSchema },
      },
    },
    async (request, reply) => {
      if ((await inTime(purgeDeadLetters(dlqNow(), request.params.id))) === 0)
        throw errors.notFound('The dead letter')
      await audit(request, 'dead_letter.purged', { deadLetterId: request.params.id })
      return reply.code(204).send(null)
    },
  )

  fastify.delete(
    '/dead-letters',
    {
      config: change,
      schema: {
        tags: ['admin'],
        summary: 'Purge every dead letter.',
        response: { 200: z.object({ purged: z.number().int() }), ...adminProblems },
      },
    },
    async (request) => {
      const purged = await inTime(purgeDeadLetters(dlqNow()))
      await audit(request, 'dead_letter.purged_all', { purged })
      return { purged }
    },
  )
}

export default deadLetters
