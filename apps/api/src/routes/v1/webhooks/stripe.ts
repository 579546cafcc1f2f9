import { errors, receiveStripeEvent, type StripeEventLike } from '@repo/core'
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod'
import Stripe from 'stripe'
import { z } from 'zod'
import { problemSchema } from '../../../lib/problem.ts'

/**
 * Incoming Stripe webhooks: /v1/webhooks/stripe. The signature and its timestamp are
 * checked with the official SDK against the raw body; the event is stored (unique event
 * id) and its processing queued in one transaction, then acknowledged at once. Stripe
 * redelivers until it gets a 2xx, so a duplicate is acknowledged and does nothing.
 */
const stripeWebhooks: FastifyPluginAsyncZod = async (fastify) => {
  // The signature covers the exact bytes sent: keep them (this plugin's routes only).
  fastify.addContentTypeParser('application/json', { parseAs: 'buffer' }, (_request, body, done) =>
    done(null, body),
  )
  const secret = fastify.config.STRIPE_WEBHOOK_SECRET
  const tolerance = fastify.config.STRIPE_WEBHOOK_TOLERANCE_SECONDS

  fastify.post(
    '/stripe',
    {
      // Public (Stripe signs instead of authenticating); its own event ids dedupe retries.
      config: { access: 'public', idempotency: false },
      schema: {
        tags: ['webhooks'],
        summary: 'Receive a Stripe event (signed with the endpoint secret).',
        headers: z.object({ 'stripe-signature': z.string().max(2_000).optional() }).loose(),
        response: {
          200: z.object({ received: z.literal(true), duplicate: z.boolean() }),
          400: problemSchema,
          404: problemSchema,
        },
      },
    },
    async (request) => {
      if (!secret) throw errors.notFound('The Stripe webhook endpoint')
      const signature = request.headers['stripe-signature']
      const body = request.body
      let event: StripeEventLike
      try {
        if (!Buffer.isBuffer(body) || !signature) throw new Error('missing body or signature')
        event = Stripe.webhooks.constructEvent(
          body,
          signature,
          secret,
          tolerance,
        ) as unknown as StripeEventLike
      } catch (error) {
        request.log.warn(
          { reason: (error as Error).message },
          'stripe webhook refused: bad signature',
        )
        throw errors.invalid('headers.stripe-signature', 'does not verify for this payload')
      }
      return { received: true as const, ...(await receiveStripeEvent(fastify.deps, event)) }
    },
  )
}

export default stripeWebhooks
