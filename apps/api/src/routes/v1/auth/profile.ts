import { getAccount, updateProfile } from '@repo/core'
import { updateProfileInput } from '@repo/schemas'
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod'
import { requestMeta } from '../../../lib/request-meta.ts'
import { authProblems, toUser, userSchema } from '../../../schemas/common.ts'

/** The signed-in user's own profile: /v1/auth/me */
const profile: FastifyPluginAsyncZod = async (fastify) => {
  fastify.get(
    '/me',
    {
      config: { access: 'authenticated' },
      schema: {
        tags: ['auth'],
        summary: 'The signed-in user.',
        response: { 200: userSchema, ...authProblems },
      },
    },
    async (request) => {
      const auth = request.auth as NonNullable<typeof request.auth>
      return toUser(await getAccount(fastify.deps, auth.user))
    },
  )

  // 'authenticated' admits sessions only: an API key acts for an organization, and a
  // person's profile is no organization's.
  fastify.patch(
    '/me',
    {
      config: { access: 'authenticated' },
      schema: {
        tags: ['auth'],
        summary: 'Change your profile (your display name).',
        body: updateProfileInput,
        response: { 200: userSchema, ...authProblems },
      },
    },
    async (request) => {
      const auth = request.auth as NonNullable<typeof request.auth>
      const account = await updateProfile(
        fastify.deps,
        { userId: auth.userId, name: request.body.name },
        requestMeta(request),
      )
      return toUser(account)
    },
  )
}

export default profile
