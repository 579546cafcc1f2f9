import { recordAudit } from '@repo/core'
import { withUser } from '@repo/db'
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod'
import { z } from 'zod'
import { problemSchema } from '../../../lib/problem.ts'
import {
  issueDashboardTicket,
  QUEUE_DASHBOARD_PATH,
  QUEUE_DASHBOARD_TICKET_SECONDS,
} from '../../../lib/queue-dashboard.ts'
import { requestMeta } from '../../../lib/request-meta.ts'
import { authProblems } from '../../../schemas/common.ts'

/** Links into the queue dashboard (/admin/queues) for platform operators. */
const queueDashboardLinks: FastifyPluginAsyncZod = async (fastify) => {
  // The port actually bound (API_PORT 0 picks one at start-up); the configured one when not
  // listening (app.inject).
  const listeningPort = () => {
    const address = fastify.server.address()
    return typeof address === 'object' && address ? address.port : fastify.config.API_PORT
  }
  fastify.post(
    '/queue-dashboard/links',
    {
      config: { access: 'platformAdmin', idempotency: false, recentAuth: true },
      schema: {
        tags: ['admin'],
        summary:
          'A single-use link (valid one minute) that opens the queue dashboard in a browser for one hour. Needs a recent sign-in; audited.',
        response: {
          201: z.object({ url: z.string(), expiresAt: z.iso.datetime() }),
          ...authProblems,
          403: problemSchema,
          503: problemSchema,
        },
      },
    },
    async (request, reply) => {
      const auth = request.auth as NonNullable<typeof request.auth>
      const ticket = await issueDashboardTicket(fastify.redis, auth.userId)
      await withUser(fastify.db, auth.userId, (tx) =>
        recordAudit(tx, {
          action: 'queue_dashboard.link_created',
          actorUserId: auth.userId,
          ipAddress: requestMeta(request).ipAddress,
        }),
      )
      // Relative to the public URL, so a base with a path (https://example.com/api/) keeps it.
      const base =
        fastify.config.API_PUBLIC_URL ?? `http://${fastify.config.API_HOST}:${listeningPort()}`
      const url = new URL(
        `.${QUEUE_DASHBOARD_PATH}/enter?ticket=${encodeURIComponent(ticket)}`,
        base.endsWith('/') ? base : `${base}/`,
      )
      return reply.code(201).send({
        url: url.toString(),
        expiresAt: new Date(Date.now() + QUEUE_DASHBOARD_TICKET_SECONDS * 1000).toISOString(),
      })
    },
  )
}

export default queueDashboardLinks
