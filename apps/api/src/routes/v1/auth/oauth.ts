import { finishOAuth, listOAuthAccounts, startOAuth, unlinkOAuthAccount } from '@repo/core'
import { oauthCallbackInput, oauthParams, oauthProvider } from '@repo/schemas'
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod'
import { z } from 'zod'
import { problemSchema } from '../../../lib/problem.ts'
import { PRODUCT_EVENTS, trackProductEvent } from '../../../lib/product-events.ts'
import { requestMeta } from '../../../lib/request-meta.ts'
import { authProblems, toUser, userSchema } from '../../../schemas/common.ts'

const providersResponse = z
  .object({
    data: z.array(
      z
        .object({ provider: oauthProvider, name: z.string().describe('For the button: "GitHub".') })
        .meta({ id: 'OAuthProviderOption' }),
    ),
  })
  .meta({ id: 'OAuthProviderOptions' })

const connectedAccountsResponse = z
  .object({
    data: z.array(
      z
        .object({
          provider: oauthProvider,
          connectedAt: z.iso.datetime().describe('When the first account of it was connected.'),
        })
        .meta({ id: 'ConnectedOAuthAccount' }),
    ),
  })
  .meta({ id: 'ConnectedOAuthAccounts' })

/**
 * OAuth sign-in (GitHub, Google) with state and PKCE: /v1/auth/oauth/:provider/*. The web
 * app's server calls `start`, sends the browser to the provider, and passes the code and
 * state it gets back to `callback`. Also which providers are on (`providers`), and the
 * caller's connected ones (`accounts`).
 */
const oauth: FastifyPluginAsyncZod = async (fastify) => {
  const limit = { ip: fastify.config.AUTH_RATE_LIMIT_PER_MINUTE }
  // Fixed by configuration at start-up: the answer is built once.
  const enabled = {
    data: Object.values(fastify.deps.oauthProviders).map((provider) => ({
      provider: provider.name,
      name: provider.displayName,
    })),
  }

  fastify.get(
    '/oauth/providers',
    {
      config: { access: 'public' },
      schema: {
        tags: ['auth'],
        summary: 'The providers this deployment can sign in with (only configured ones).',
        response: { 200: providersResponse, 400: problemSchema, 429: problemSchema },
      },
    },
    async (_request, reply) => {
      // Changes only with a deploy: the sign-in page may reuse it for a few minutes.
      reply.header('cache-control', 'public, max-age=300')
      return enabled
    },
  )

  fastify.get(
    '/oauth/accounts',
    {
      config: { access: 'authenticated' },
      schema: {
        tags: ['auth'],
        summary: 'The providers connected to your account.',
        response: { 200: connectedAccountsResponse, ...authProblems },
      },
    },
    async (request) => {
      const auth = request.auth as NonNullable<typeof request.auth>
      const accounts = await listOAuthAccounts(fastify.deps, { userId: auth.userId })
      return {
        data: accounts.map((a) => ({
          provider: a.provider,
          connectedAt: a.connectedAt.toISOString(),
        })),
      }
    },
  )

  fastify.delete(
    '/oauth/accounts/:provider',
    {
      // Removes a way to sign in: proof of presence, as for the other credential changes.
      config: { access: 'authenticated', recentAuth: true },
      schema: {
        tags: ['auth'],
        summary:
          'Disconnect a provider (needs a recent sign-in or step-up); 409 if it is your last way to sign in.',
        params: oauthParams,
        response: {
          204: z.null(),
          ...authProblems,
          403: problemSchema,
          404: problemSchema,
          409: problemSchema,
        },
      },
    },
    async (request, reply) => {
      const auth = request.auth as NonNullable<typeof request.auth>
      await unlinkOAuthAccount(
        fastify.deps,
        { userId: auth.userId, provider: request.params.provider },
        requestMeta(request),
      )
      return reply.code(204).send(null)
    },
  )

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
      // Counted as a failed sign-in, by reason, as a password's is (auth_sign_in_failures_total).
      onError: async (_request, _reply, error) => fastify.metrics.signInFailed(error),
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
      if (result.signedUp)
        trackProductEvent(request, PRODUCT_EVENTS.signedUp, {
          userId: result.user.id,
          properties: { method: request.params.provider },
        })
      return { token: result.token, user: toUser(result.user) }
    },
  )
}

export default oauth
