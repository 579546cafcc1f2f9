import { finishOAuth, startOAuth } from '@repo/core'
import { oauthCallbackInput, oauthParams } from '@repo/schemas'
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod'
import { z } from 'zod'
import { problemSchema } from '../../../lib/problem.ts'
import { requestMeta } from '../../../lib/request-meta.ts'
import { toUser, userSchema } from '../../../schemas/common.ts'

/**
 * OAuth sign-in (GitHub, Google) with state and PKCE: /v1/auth/oauth/:provider/*. The web
 * app's server calls `start`, sends the browser to the provider, and passes the code and
 * state it gets back to `callback`.
 */
const oauth: FastifyPluginAsyncZod = async (fastify) => {
  const limit = { ip: fastify.config.AUTH_RATE_LIMIT_PER_MINUTE }

  fastify.post(
    '/oauth/:provider/start',
    {
      config: { access: 'public', limits: limit, answerHoldsSecret: true },
      schema: {
        tags: ['auth'],
        summary: 'Begin signing in with a provider: the URL to send the browser to.',
        params: oauthParams,
        response: {
          // binding: keep it (an HttpOnly cookie in the web app) and send it back with the callback.
          200: z.object({ authorizationUrl: z.string(), binding: z.string() }),
          400: problemSchema,
          404: problemSchema,
          429: problemSchema,
        },
      },
    },
    async (request) => startOAuth(fastify.deps, request.params),
  )

  fastify.post(
    '/oauth/:provider/callback',
    {
      config: { access: 'public', limits: limit, idempotency: false },
      schema: {
        tags: ['auth'],
        summary: 'Finish signing in with the code and state the provider returned.',
        params: oauthParams,
        body: oauthCallbackInput,
        response: {
          200: z.union([
            z.object({ token: z.string(), user: userSchema }),
            z.object({ mfaRequired: z.literal(true), mfaToken: z.string() }),
          ]),
          400: problemSchema,
          404: problemSchema,
          429: problemSchema,
        },
      },
    },
    async (request) => {
      const result = await finishOAuth(
        fastify.deps,
        { ...request.params, ...request.body },
        requestMeta(request),
      )
      if (result.mfaRequired) return { mfaRequired: true as const, mfaToken: result.mfaToken }
      return { token: result.token, user: toUser(result.user) }
    },
  )
}

export default oauth
