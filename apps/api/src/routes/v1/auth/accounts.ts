import {
  AppError,
  changePassword,
  listSessions,
  requestPasswordReset,
  resendEmailVerification,
  resetPassword,
  revokeOtherSessions,
  revokeSession,
  signInUser,
  signOutUser,
  signUpUser,
  verifyEmail,
} from '@repo/core'
import { ANONYMOUS_DISTINCT_ID, FEATURE_FLAGS, isFlagEnabled } from '@repo/observability'
import {
  changePasswordInput,
  confirmPasswordResetInput,
  listQuery,
  requestPasswordResetInput,
  sessionParams,
  signInInput,
  signUpInput,
  verifyEmailInput,
} from '@repo/schemas'
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod'
import { z } from 'zod'
import { problemSchema } from '../../../lib/problem.ts'
import { PRODUCT_EVENTS, trackProductEvent } from '../../../lib/product-events.ts'
import { requestMeta } from '../../../lib/request-meta.ts'
import { authProblems, pageOf, toUser, userSchema } from '../../../schemas/common.ts'

const sessionResponse = z
  .object({ token: z.string(), user: userSchema })
  .meta({ id: 'SessionToken' })
/** With MFA on, a correct password answers this instead; finish at POST /v1/auth/mfa/verify. */
const mfaChallengeResponse = z
  .object({ mfaRequired: z.literal(true), mfaToken: z.string() })
  .meta({ id: 'MfaChallenge' })

/** Accounts and sessions: /v1/auth/* */
const auth: FastifyPluginAsyncZod = async (fastify) => {
  // Per client IP, shared by all instances through Redis; stricter than the rest of the API.
  const authLimit = { ip: fastify.config.AUTH_RATE_LIMIT_PER_MINUTE }
  fastify.post(
    '/sign-up',
    {
      config: { access: 'public', limits: authLimit, idempotency: false },
      schema: {
        tags: ['auth'],
        summary: 'Create an account; answers a session token.',
        body: signUpInput,
        response: {
          201: sessionResponse,
          400: problemSchema,
          403: problemSchema,
          409: problemSchema,
          429: problemSchema,
        },
      },
    },
    async (request, reply) => {
      // The kill switch (feature flag signup-enabled); open when PostHog cannot say.
      const open = await isFlagEnabled(fastify.analytics, FEATURE_FLAGS.signupEnabled, {
        distinctId: ANONYMOUS_DISTINCT_ID,
      })
      if (!open)
        throw new AppError({
          code: 'signup_paused',
          status: 403,
          userMessage: 'New accounts cannot be created right now. Try again later.',
        })
      const { user, token } = await signUpUser(fastify.deps, request.body, requestMeta(request))
      trackProductEvent(request, PRODUCT_EVENTS.signedUp, {
        userId: user.id,
        properties: { method: 'password' },
      })
      return reply.code(201).send({ token, user: toUser(user) })
    },
  )

  fastify.post(
    '/sign-in',
    {
      config: { access: 'public', limits: authLimit, idempotency: false },
      schema: {
        tags: ['auth'],
        summary: 'Sign in with email and password; answers a new session token.',
        body: signInInput,
        response: {
          200: z.union([sessionResponse, mfaChallengeResponse]),
          400: problemSchema,
          401: problemSchema,
          429: problemSchema,
        },
      },
      onError: async (_request, _reply, error) => fastify.metrics.signInFailed(error),
    },
    async (request) => {
      const result = await signInUser(fastify.deps, request.body, requestMeta(request))
      if (result.mfaRequired) return { mfaRequired: true as const, mfaToken: result.mfaToken }
      return { token: result.token, user: toUser(result.user) }
    },
  )

  fastify.post(
    '/sign-out',
    {
      // Ending sessions stays possible in maintenance mode: it is how people protect
      // their account (a lost device), and it only takes access away.
      config: { access: 'authenticated', duringMaintenance: true },
      schema: {
        tags: ['auth'],
        summary: 'End the current session.',
        response: { 204: z.null(), ...authProblems },
      },
    },
    async (request, reply) => {
      const auth = request.auth as NonNullable<typeof request.auth>
      await signOutUser(
        fastify.deps,
        { userId: auth.userId, sessionId: auth.sessionId },
        requestMeta(request),
      )
      return reply.code(204).send(null)
    },
  )

  fastify.post(
    '/password',
    {
      config: { access: 'authenticated', limits: authLimit, idempotency: false },
      schema: {
        tags: ['auth'],
        summary: 'Change your password: every session ends; answers a new token for this client.',
        body: changePasswordInput,
        response: { 200: z.object({ token: z.string() }), ...authProblems, 429: problemSchema },
      },
    },
    async (request) => {
      const auth = request.auth as NonNullable<typeof request.auth>
      const { token } = await changePassword(
        fastify.deps,
        { userId: auth.userId, ...request.body },
        requestMeta(request),
      )
      return { token }
    },
  )

  fastify.post(
    '/verify-email',
    {
      config: { access: 'public', limits: authLimit },
      schema: {
        tags: ['auth'],
        summary: 'Confirm an email address with the token from the emailed link (single use).',
        body: verifyEmailInput,
        response: { 200: userSchema, 400: problemSchema, 429: problemSchema },
      },
    },
    async (request) => {
      const user = await verifyEmail(fastify.deps, request.body, requestMeta(request))
      trackProductEvent(request, PRODUCT_EVENTS.emailVerified, { userId: user.id })
      return toUser(user)
    },
  )

  fastify.post(
    '/verify-email/resend',
    {
      config: { access: 'authenticated', limits: authLimit },
      schema: {
        tags: ['auth'],
        summary: 'Email a new verification link.',
        response: { 202: z.null(), ...authProblems, 409: problemSchema, 429: problemSchema },
      },
    },
    async (request, reply) => {
      const { user } = request.auth as NonNullable<typeof request.auth>
      await resendEmailVerification(fastify.deps, { user }, requestMeta(request))
      return reply.code(202).send(null)
    },
  )

  fastify.post(
    '/password-reset',
    {
      config: { access: 'public', limits: authLimit },
      schema: {
        tags: ['auth'],
        summary: 'Email a password reset link if an account has this address. Always 202.',
        body: requestPasswordResetInput,
        response: { 202: z.null(), 400: problemSchema, 429: problemSchema },
      },
    },
    async (request, reply) => {
      // Answered before the work is done, so timing cannot tell whether the account exists.
      requestPasswordReset(fastify.deps, request.body, requestMeta(request)).catch((err: unknown) =>
        request.log.error({ err }, 'password reset request failed'),
      )
      return reply.code(202).send(null)
    },
  )

  fastify.post(
    '/password-reset/confirm',
    {
      config: { access: 'public', limits: authLimit },
      schema: {
        tags: ['auth'],
        summary: 'Set a new password with the emailed token (single use); signs out everywhere.',
        body: confirmPasswordResetInput,
        response: { 204: z.null(), 400: problemSchema, 429: problemSchema },
      },
    },
    async (request, reply) => {
      await resetPassword(fastify.deps, request.body, requestMeta(request))
      return reply.code(204).send(null)
    },
  )

  const sessionSchema = z
    .object({
      id: z.string(),
      createdAt: z.iso.datetime(),
      lastUsedAt: z.iso.datetime(),
      expiresAt: z.iso.datetime(),
      ipAddress: z.string().nullable(),
      userAgent: z.string().nullable(),
      scope: z
        .enum(['full', 'queue_dashboard'])
        .describe('full: the API; queue_dashboard: only the queue dashboard, by its cookie.'),
      current: z.boolean(),
    })
    .meta({ id: 'Session' })

  fastify.get(
    '/sessions',
    {
      config: { access: 'authenticated' },
      schema: {
        tags: ['auth'],
        summary: "The caller's active sessions (devices), newest first.",
        querystring: listQuery,
        response: {
          200: pageOf(sessionSchema),
          ...authProblems,
        },
      },
    },
    async (request) => {
      const auth = request.auth as NonNullable<typeof request.auth>
      const sessions = await listSessions(
        fastify.deps,
        { userId: auth.userId, currentSessionId: auth.sessionId },
        request.query,
      )
      return {
        data: sessions.data.map((s) => ({
          id: s.id,
          createdAt: s.createdAt.toISOString(),
          lastUsedAt: s.lastUsedAt.toISOString(),
          expiresAt: s.expiresAt.toISOString(),
          ipAddress: s.ipAddress,
          userAgent: s.userAgent,
          scope: s.scope as 'full' | 'queue_dashboard',
          current: s.current,
        })),
        nextCursor: sessions.nextCursor,
      }
    },
  )

  fastify.delete(
    '/sessions/:sessionId',
    {
      // Ending sessions stays possible in maintenance mode: it is how people protect
      // their account (a lost device), and it only takes access away.
      config: { access: 'authenticated', duringMaintenance: true },
      schema: {
        tags: ['auth'],
        summary: 'Revoke one of your sessions.',
        params: sessionParams,
        response: { 204: z.null(), ...authProblems, 404: problemSchema },
      },
    },
    async (request, reply) => {
      const auth = request.auth as NonNullable<typeof request.auth>
      await revokeSession(
        fastify.deps,
        { userId: auth.userId, sessionId: request.params.sessionId },
        requestMeta(request),
      )
      return reply.code(204).send(null)
    },
  )

  fastify.post(
    '/sessions/revoke-others',
    {
      // Ending sessions stays possible in maintenance mode: it is how people protect
      // their account (a lost device), and it only takes access away.
      config: { access: 'authenticated', duringMaintenance: true },
      schema: {
        tags: ['auth'],
        summary: 'Sign out everywhere else; keeps the current session.',
        response: { 200: z.object({ revoked: z.number().int() }), ...authProblems },
      },
    },
    async (request) => {
      const auth = request.auth as NonNullable<typeof request.auth>
      return {
        revoked: await revokeOtherSessions(
          fastify.deps,
          { userId: auth.userId, currentSessionId: auth.sessionId },
          requestMeta(request),
        ),
      }
    },
  )
}

export default auth
