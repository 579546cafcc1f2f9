import { completeMfaChallenge, confirmTotp, disableMfa, setupTotp, stepUp } from '@repo/core'
import { confirmTotpInput, mfaVerifyInput, stepUpInput } from '@repo/schemas'
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod'
import { z } from 'zod'
import { problemSchema } from '../../../lib/problem.ts'
import { requestMeta } from '../../../lib/request-meta.ts'
import { authProblems, toUser, userSchema } from '../../../schemas/common.ts'

/** Two-factor authentication (TOTP and recovery codes): /v1/auth/mfa/* */
const mfa: FastifyPluginAsyncZod = async (fastify) => {
  const limit = { ip: fastify.config.AUTH_RATE_LIMIT_PER_MINUTE }

  fastify.post(
    '/mfa/totp/setup',
    {
      config: { access: 'authenticated', recentAuth: true, answerHoldsSecret: true },
      schema: {
        tags: ['auth'],
        summary: 'Start TOTP enrolment: a secret and otpauth:// URI for an authenticator app.',
        response: {
          200: z.object({ secret: z.string(), uri: z.string() }),
          ...authProblems,
          409: problemSchema,
        },
      },
    },
    async (request) => {
      const auth = request.auth as NonNullable<typeof request.auth>
      // A stolen session must not enrol the thief's authenticator.
      return setupTotp(fastify.deps, { user: auth.user })
    },
  )

  fastify.post(
    '/mfa/totp/confirm',
    {
      config: { access: 'authenticated', limits: limit, idempotency: false },
      schema: {
        tags: ['auth'],
        summary:
          'Finish enrolment with a first code: MFA on, recovery codes (shown once), a new session.',
        body: confirmTotpInput,
        response: {
          200: z.object({ token: z.string(), recoveryCodes: z.array(z.string()) }),
          ...authProblems,
          404: problemSchema,
          409: problemSchema,
        },
      },
    },
    async (request) => {
      const auth = request.auth as NonNullable<typeof request.auth>
      return confirmTotp(
        fastify.deps,
        { userId: auth.userId, sessionId: auth.sessionId, code: request.body.code },
        requestMeta(request),
      )
    },
  )

  fastify.post(
    '/mfa/verify',
    {
      config: { access: 'public', limits: limit, idempotency: false },
      schema: {
        tags: ['auth'],
        summary: 'Finish a sign-in that answered mfaRequired, with a TOTP code or a recovery code.',
        body: mfaVerifyInput,
        response: {
          200: z.object({ token: z.string(), user: userSchema }),
          400: problemSchema,
          401: problemSchema,
          429: problemSchema,
        },
      },
      onError: async (_request, _reply, error) => fastify.metrics.signInFailed(error),
    },
    async (request) => {
      const { user, token } = await completeMfaChallenge(
        fastify.deps,
        request.body,
        requestMeta(request),
      )
      return { token, user: toUser(user) }
    },
  )

  fastify.post(
    '/mfa/step-up',
    {
      config: { access: 'authenticated', limits: limit },
      schema: {
        tags: ['auth'],
        summary: 'Confirm your second factor again before a sensitive action (valid 10 minutes).',
        body: stepUpInput,
        response: { 204: z.null(), ...authProblems },
      },
    },
    async (request, reply) => {
      const auth = request.auth as NonNullable<typeof request.auth>
      await stepUp(
        fastify.deps,
        { userId: auth.userId, sessionId: auth.sessionId, ...request.body },
        requestMeta(request),
      )
      return reply.code(204).send(null)
    },
  )

  fastify.delete(
    '/mfa',
    {
      config: { access: 'authenticated', recentAuth: true },
      schema: {
        tags: ['auth'],
        summary: 'Turn two-factor authentication off (needs a recent step-up).',
        response: { 204: z.null(), ...authProblems, 403: problemSchema, 404: problemSchema },
      },
    },
    async (request, reply) => {
      const auth = request.auth as NonNullable<typeof request.auth>
      await disableMfa(
        fastify.deps,
        { userId: auth.userId, session: auth.session },
        requestMeta(request),
      )
      return reply.code(204).send(null)
    },
  )
}

export default mfa
