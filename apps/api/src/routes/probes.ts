import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod'
import { z } from 'zod'
import { problem, problemSchema, sendProblem } from '../lib/problem.ts'

// Probes answer whatever the limits' store is doing: a frozen Redis must not slow liveness.
const unlimited = { ip: false, user: false, organization: false } as const

const checkState = z.enum(['up', 'down'])
const readySchema = z.object({
  status: z.literal('ready'),
  checks: z.object({ postgres: checkState, redis: checkState }),
})
const notReadySchema = problemSchema.extend({
  checks: z.object({ postgres: checkState, redis: checkState }),
  draining: z.boolean(),
})

/** Probes live at the root (not under /v1): orchestrators call them unauthenticated. */
const health: FastifyPluginAsyncZod = async (fastify) => {
  fastify.get(
    '/healthz',
    {
      config: { access: 'public', limits: unlimited },
      schema: {
        tags: ['probes'],
        summary: 'Liveness: the process serves requests. Checks no dependency.',
        response: { 200: z.object({ status: z.literal('ok') }) },
      },
    },
    async () => ({ status: 'ok' as const }),
  )

  fastify.get(
    '/readyz',
    {
      config: { access: 'public', limits: unlimited },
      schema: {
        tags: ['probes'],
        summary: 'Readiness: 200 only when Postgres and Redis answer; 503 names what failed.',
        response: { 200: readySchema, 503: notReadySchema },
      },
    },
    async (_request, reply) => {
      const checks = await fastify.readiness.check()
      const failed = Object.entries(checks)
        .filter(([, state]) => state === 'down')
        .map(([name]) => name)
      if (failed.length === 0 && !fastify.draining) return { status: 'ready' as const, checks }
      const detail = fastify.draining
        ? 'The server is shutting down.'
        : `Unavailable: ${failed.join(', ')}.`
      reply.header('retry-after', '5')
      return sendProblem(
        reply,
        problem(503, { title: 'Not ready', detail, checks, draining: fastify.draining }),
      )
    },
  )

  fastify.get(
    '/version',
    {
      config: { access: 'public', limits: unlimited },
      schema: {
        tags: ['probes'],
        summary: 'The running build: version, commit and environment.',
        response: {
          200: z.object({ version: z.string(), commit: z.string(), environment: z.string() }),
        },
      },
    },
    async () => ({
      version: fastify.config.APP_VERSION,
      commit: fastify.config.GIT_COMMIT,
      environment: fastify.config.NODE_ENV,
    }),
  )
}

export default health
