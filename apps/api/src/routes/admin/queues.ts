import { createBullBoard } from '@bull-board/api'
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter'
import { FastifyAdapter } from '@bull-board/fastify'
import cookie from '@fastify/cookie'
import formBody from '@fastify/formbody'
import { createSession } from '@repo/auth'
import { AppError, errors, recordAudit, requireRecentAuth } from '@repo/core'
import { withUser } from '@repo/db'
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
// A ticket is 32 random bytes, base64url (generateSecret): anything else is a 400, and
// what reaches the page needs no escaping.
const ticketSchema = z
  .object({ ticket: z.string().regex(/^[A-Za-z0-9_-]{43}$/, 'is not a dashboard ticket') })
  .strict()

/** The link's landing page: one button that redeems the ticket (no script: the CSP holds). */
const enterPage = (ticket: string) => `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="robots" content="noindex">
<title>Open the queue dashboard</title></head>
<body style="font-family:system-ui,sans-serif;max-width:32rem;margin:4rem auto;padding:0 1rem">
<h1 style="font-size:1.25rem">Queue dashboard</h1>
<p>This link opens the queue dashboard for one hour, in this browser only. It works once.</p>
<form method="post" action="${QUEUE_DASHBOARD_PATH}/enter">
<input type="hidden" name="ticket" value="${ticket}">
<button type="submit" id="open">Open the dashboard</button>
</form></body></html>`

/**
 * The queue dashboard (bull-board) at /admin/queues, for platform operators.
 *
 * Browsers send no Authorization header, so an operator first asks the API for a link
 * (POST /v1/admin/queue-dashboard/links: platform admin, recent sign-in, audited) and opens
 * it: /admin/queues/enter shows a button whose POST redeems the single-use ticket for a
 * dashboard-scoped session of one hour in an HttpOnly, SameSite=Strict cookie sent only to
 * /admin/queues. Every dashboard route then goes through the access plugin like any other
 * ('platformAdmin', checked per request), with that cookie or a Bearer token of a recent
 * sign-in. The dead-letter queue is shown read-only: replays go through the audited CLI
 * and admin API.
 */
const queueDashboard: FastifyPluginAsyncZod = async (fastify) => {
  await fastify.register(cookie)
  await fastify.register(formBody)

  // Step one, GET: a page with a button, and nothing redeemed. Link previewers and mail
  // scanners fetch links before people do; a GET that redeemed the ticket would hand them
  // the session. The page is same-site, so the button's POST carries the Strict cookie
  // back even when the link was followed from another site (an email, a chat).
  fastify.get(
    '/queues/enter',
    {
      config: { access: 'public', limits: { ip: 20 } },
      schema: { hide: true, querystring: ticketSchema },
    },
    async (request, reply) =>
      reply
        .header('cache-control', 'no-store')
        .type('text/html; charset=utf-8')
        .send(enterPage(request.query.ticket)),
  )

  // Step two, POST from that page: redeem the ticket (once), open a dashboard session.
  fastify.post(
    '/queues/enter',
    {
      config: { access: 'public', limits: { ip: 20 } },
      schema: { hide: true, body: ticketSchema },
    },
    async (request, reply) => {
      const userId = await redeemDashboardTicket(fastify.redis, request.body.ticket)
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
      // The session and its audit entry commit together.
      const { token } = await withUser(fastify.db, userId, async (tx) => {
        const created = await createSession(
          tx,
          {
            idleTimeoutMs: QUEUE_DASHBOARD_SESSION_MS,
            absoluteLifetimeMs: QUEUE_DASHBOARD_SESSION_MS,
          },
          userId,
          { ipAddress: meta.ipAddress, userAgent: meta.userAgent, scope: 'queue_dashboard' },
        )
        await recordAudit(tx, {
          action: 'queue_dashboard.opened',
          actorUserId: userId,
          targetType: 'session',
          targetId: created.session.id,
          ipAddress: meta.ipAddress,
        })
        return created
      })
      reply.setCookie(QUEUE_DASHBOARD_COOKIE, token, {
        path: QUEUE_DASHBOARD_PATH,
        httpOnly: true,
        sameSite: 'strict',
        secure: fastify.config.NODE_ENV === 'production',
        maxAge: QUEUE_DASHBOARD_SESSION_MS / 1000,
      })
      return reply.redirect(`${QUEUE_DASHBOARD_PATH}/`, 303)
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
      // A Bearer session (a proxy, a script) must be as fresh as the one that asks for a
      // link; a dashboard session was opened by such a link and lasts an hour at most.
      board.addHook('preHandler', async (request) => {
        const auth = request.auth
        if (auth && auth.session.scope !== 'queue_dashboard')
          await requireRecentAuth(fastify.deps, { userId: auth.userId, session: auth.session })
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
        const auth = request.auth
        if (request.method === 'GET' || request.method === 'HEAD' || !auth) return
        // After the answer: an Idempotency-Key claim is no longer held (stopHoldingClaim).
        await withUser(fastify.db, auth.userId, (tx) =>
          recordAudit(tx, {
            action: 'queue_dashboard.changed',
            actorUserId: auth.userId,
            ipAddress: request.ip,
            metadata: {
              method: request.method,
              path: (request.url.split('?')[0] ?? '').slice(0, 500),
              status: reply.statusCode,
            },
          }),
        ).catch((err) => request.log.error({ err }, 'could not audit a queue dashboard change'))
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
