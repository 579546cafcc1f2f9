import { Webhook } from 'standardwebhooks'
import { openWebhookSecret } from './webhook-endpoints.ts'

const USER_AGENT = 'Groundwork-Webhooks/1.0'

/**
 * Standard Webhooks headers for one attempt: signed with the current secret, and with the
 * previous one too during a rotation's grace period. `body` must be the exact bytes sent:
 * the signature covers `id.timestamp.body`.
 */
export function signedHeaders(
  deps: { secretsKey: Buffer },
  endpoint: {
    secret: Uint8Array
    previousSecret: Uint8Array | null
    previousSecretExpiresAt: Date | null
  },
  eventId: string,
  body: string,
  sentAt: Date,
) {
  const secrets = [openWebhookSecret(deps.secretsKey, endpoint.secret)]
  if (
    endpoint.previousSecret &&
    endpoint.previousSecretExpiresAt &&
    endpoint.previousSecretExpiresAt > new Date()
  )
    secrets.push(openWebhookSecret(deps.secretsKey, endpoint.previousSecret))
  return {
    'content-type': 'application/json',
    'user-agent': USER_AGENT,
    'webhook-id': eventId,
    'webhook-timestamp': String(Math.floor(sentAt.getTime() / 1000)),
    'webhook-signature': secrets
      .map((secret) => new Webhook(secret).sign(eventId, sentAt, body))
      .join(' '),
  }
}
