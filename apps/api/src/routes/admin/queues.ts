import { createBullBoard } from '@bull-board/api'
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter'
import { FastifyAdapter } from '@bull-board/fastify'
import cookie from '@fastify/cookie'
import { createSession } from '@repo/auth'
import { AppError, errors, recordAudit } from '@repo/core'
import { DEAD_LETTER_QUEUE, QUEUES, redactJobData } from '@repo/jobs'
import type { Queue } from 'bullmq'
import type { FastifyInstance } from 'fastify'
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod'
import { z } from 'zod'
import {
  QUEUE_DASHBOARD_COOKIE,
  QUEUE_DASHBOARD_PATH,
  QUEUE_DASHBOARD_SESSION_MS,
  redeemDashboardTicket,
} from '../../lib/queue-dashboard.ts'
import { requestMeta } from '../../lib/request-meta.ts'
import { setDefaultAccess } from '../../plugins/app/access.ts'
import { handleError } from '../../plugins/app/errors.ts'

const QUEUE_NAMES = [...Object.keys(QUEUES), DEAD_LETTER_QUEUE]

/**
 * The queue dashboard (bull-board) at /admin/queues, for platform operators.
 *
 * Browsers send no Authorization header, so an operator first asks the API for a link
 * (POST /v1/admin/queue-dashboard/links: platform admin, recent sign-in, audited) and opens
 * it: /admin/queues/enter redeems its single-use ticket for a session of one hour in an
 * HttpOnly, SameSite=Strict cookie sent only to /admin/queues. Every dashboard route then
 * goes through the access plugin like any other ('platformAdmin', checked per request), with
 * that cookie or a Bearer token. The dead-letter queue is shown read-only: replays go
 * through the audited CLI and admin API.
 */
const queueDashboard: FastifyPluginAsyncZod = async (fastify) => {
  await fastify.register(cookie)

  fastify.get(
    '/queues/enter',
    {
      config: { access: 'public', limits: { ip: 20 } },
      schema: {
        hide: true,
        querystring: z.object({ ticket: z.string().min(20).max(200) }).strict(),
      },
    },
    async (request, reply) => {
      const userId = await redeemDashboardTicket(fastify.redis, request.query.ticket)
      if (!userId)
        throw errors.unauthenticated(
          'This dashboard link is not valid, expired or was used already. Ask for a new one.',
        )
      const user = await fastify.db.user.findUnique({
        where: { id: userId },
        select: { platformAdmin: true },
      })
      if (!user?.platformAdmin) throw errors.forbidden('This is for platform operators.')
      const meta = requestMeta(request)
      const { token, session } = await createSession(
        fastify.db,
        {
          idleTimeoutMs: QUEUE_DASHBOARD_SESSION_MS,
          absoluteLifetimeMs: QUEUE_DASHBOARD_SESSION_MS,
        },
        userId,
        { ipAddress: meta.ipAddress, userAgent: meta.userAgent, scope: 'queue_dashboard' },
      )
      reply.setCookie(QUEUE_DASHBOARD_COOKIE, token, {
        path: QUEUE_DASHBOARD_PATH,
        httpOnly: true,
        sameSite: 'strict',
        secure: fastify.config.NODE_ENV === 'production',
        maxAge: QUEUE_DASHBOARD_SESSION_MS / 1000,
      })
      await recordAudit(fastify.db, {
        action: 'queue_dashboard.opened',
        actorUserId: userId,
        targetType: 'session',
        targetId: session.id,
        ipAddress: meta.ipAddress,
      })
      // A page that moves on by itself, not a redirect: a link followed from another site
      // (an email, a chat, the web app on its own domain) is a cross-site navigation, and
      // the browser would withhold the SameSite=Strict cookie from a redirect in it. The
      // page's own navigation is same-site, so the cookie goes along.
      return reply
        .header('cache-control', 'no-store')
        .type('text/html; charset=utf-8')
        .send(
          `<!doctype html><html><head><meta charset="utf-8"><meta http-equiv="refresh" content="0;url=${QUEUE_DASHBOARD_PATH}/"><title>Opening the queue dashboard</title></head><body><p><a href="${QUEUE_DASHBOARD_PATH}/">Open the queue dashboard</a></p></body></html>`,
        )
    },
  )

  await fastify.register(
    async (board) => {
      setDefaultAccess(board, 'platformAdmin')
      board.addHook('onRoute', (route) => {
        route.config = {
          ...route.config,
          sessionCookie: { name: QUEUE_DASHBOARD_COOKIE, scope: 'queue_dashboard' },
          // The board's page styles elements inline and loads its fonts from Google Fonts:
          // a CSP for these routes only (scripts stay 'self').
          helmet: {
            contentSecurityPolicy: {
              directives: {
                defaultSrc: ["'self'"],
                scriptSrc: ["'self'"],
                styleSrc: ["'self'", "'unsafe-inline'", 'https://fonts.googleapis.com'],
                fontSrc: ["'self'", 'data:', 'https://fonts.gstatic.com'],
                imgSrc: ["'self'", 'data:'],
                connectSrc: ["'self'"],
                frameAncestors: ["'none'"],
              },
            },
          },
        } as typeof route.config
      })

      // Job data as the dead-letter API shows it: single-use links in emails redacted.
      const adapters = (queues: Queue[]) =>
        queues.map((queue) => {
          const adapter = new BullMQAdapter(queue, {
            readOnlyMode: queue.name === DEAD_LETTER_QUEUE,
          })
          adapter.setFormatter('data', redactJobData)
          return adapter
        })
      let queues = QUEUE_NAMES.map((name) => fastify.queues.get(name))
      const serverAdapter = new FastifyAdapter()
      serverAdapter.setBasePath(QUEUE_DASHBOARD_PATH)
      const { replaceQueues } = createBullBoard({
        queues: adapters(queues),
        serverAdapter,
        options: { uiConfig: { boardTitle: 'Groundwork queues' } },
      })
      // The board's API reads Redis, and BullMQ waits for a connection it does not have:
      // without one, answer 503 at once (after the access check) rather than hang.
      board.addHook('preHandler', async (request) => {
        if (!request.url.startsWith(`${QUEUE_DASHBOARD_PATH}/api/`)) return
        if (fastify.redis.status === 'ready') return
        throw new AppError({
          code: 'unavailable',
          status: 503,
          userMessage: 'The job store (Redis) is not answering. Try again shortly.',
          retryAfterSeconds: 5,
        })
      })
      // Operators' changes (pause, retry, clean, obliterate ...) are audited: who, what, outcome.
      board.addHook('onResponse', async (request, reply) => {
        if (request.method === 'GET' || request.method === 'HEAD' || !request.auth) return
        await recordAudit(fastify.db, {
          action: 'queue_dashboard.changed',
          actorUserId: request.auth.userId,
          ipAddress: request.ip,
          metadata: {
            method: request.method,
            path: (request.url.split('?')[0] ?? '').slice(0, 500),
            status: reply.statusCode,
          },
        }).catch((err) => request.log.error({ err }, 'could not audit a queue dashboard change'))
      })
      // A queue opened while Redis was down is reopened by the registry once it is back:
      // show the board the current ones.
      board.addHook('onRequest', async () => {
        const current = QUEUE_NAMES.map((name) => fastify.queues.get(name))
        if (current.some((queue, i) => queue !== queues[i])) {
          queues = current
          replaceQueues(adapters(queues))
        }
      })
      // The library installs an error handler of its own (500 with the message for any
      // error); ours goes in its place, so 401, 403 and 503 keep their problem+json.
      const plugin = serverAdapter.registerPlugin()
      await board.register((instance: FastifyInstance, options, done) =>
        plugin(withOurErrorHandler(instance), options as never, done),
      )
    },
    { prefix: '/queues' },
  )
}

function withOurErrorHandler(instance: FastifyInstance): FastifyInstance {
  return new Proxy(instance, {
    get(target, property) {
      if (property === 'setErrorHandler') return () => target.setErrorHandler(handleError)
      const value = Reflect.get(target, property, target)
      return typeof value === 'function' ? value.bind(target) : value
    },
  })
}

export default queueDashboard
