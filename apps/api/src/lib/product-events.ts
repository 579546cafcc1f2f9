import type { FastifyRequest } from 'fastify'

/**
 * The product's key moments, as PostHog events (the catalogue, with each event's properties,
 * is in docs/observability.md). Names are snake_case, past tense; properties never hold an
 * email or a name (the analytics client scrubs them anyway unless configured otherwise).
 */
export const PRODUCT_EVENTS = {
  signedUp: 'user_signed_up',
  emailVerified: 'email_verified',
  organizationCreated: 'organization_created',
  memberInvited: 'member_invited',
  memberJoined: 'member_joined',
  projectCreated: 'project_created',
  apiKeyCreated: 'api_key_created',
} as const

export type ProductEvent = (typeof PRODUCT_EVENTS)[keyof typeof PRODUCT_EVENTS]

/**
 * Records a key moment for the user who made it, grouped under its organization. Called by
 * a route once its business function has returned, so after the transaction committed: a
 * rolled-back change is never counted. Queued in memory and sent in batches, never waited
 * for: PostHog being down slows or fails no request. An idempotent replay answers from the
 * stored response without running the route, so it is not counted twice.
 */
export function trackProductEvent(
  request: FastifyRequest,
  event: ProductEvent,
  options: { userId: string; organizationId?: string; properties?: Record<string, unknown> },
): void {
  request.server.analytics.capture({
    distinctId: options.userId,
    event,
    ...(options.organizationId ? { organizationId: options.organizationId } : {}),
    properties: { ...options.properties, source: request.apiKey ? 'api_key' : 'session' },
  })
}
