import { acceptInvitation } from '@repo/core'
import { acceptInvitationInput } from '@repo/schemas'
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod'
import { problemSchema } from '../../../lib/problem.ts'
import { PRODUCT_EVENTS, trackProductEvent } from '../../../lib/product-events.ts'
import { requestMeta } from '../../../lib/request-meta.ts'
import { authProblems, organizationSchema, toOrganization } from '../../../schemas/common.ts'

/** Accepting an invitation: /v1/invitations/accept */
const invitations: FastifyPluginAsyncZod = async (fastify) => {
  fastify.post(
    '/accept',
    {
      config: {
        access: 'authenticated',
        limits: { ip: fastify.config.AUTH_RATE_LIMIT_PER_MINUTE },
      },
      schema: {
        tags: ['organizations'],
        summary:
          'Join an organization with the token from an invitation email (verified email must match).',
        body: acceptInvitationInput,
        response: {
          200: organizationSchema,
          ...authProblems,
          403: problemSchema,
          409: problemSchema,
          429: problemSchema,
        },
      },
    },
    async (request) => {
      const auth = request.auth as NonNullable<typeof request.auth>
      const organization = await acceptInvitation(
        fastify.deps,
        { user: auth.user, token: request.body.token },
        requestMeta(request),
      )
      trackProductEvent(request, PRODUCT_EVENTS.memberJoined, {
        userId: auth.userId,
        organizationId: organization.id,
      })
      return toOrganization(organization)
    },
  )
}

export default invitations
