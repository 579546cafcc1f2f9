import { z } from 'zod'
import { listQuery } from './lists.ts'
import { idSchema, nameSchema, someOf, textSchema } from './primitives.ts'

/** What an API key may be granted. A route names the scope it accepts keys for. */
export const API_KEY_SCOPES = [
  'organization:read',
  'members:read',
  'projects:read',
  'projects:write',
] as const
export const apiKeyScope = z.enum(API_KEY_SCOPES)
export type ApiKeyScope = z.output<typeof apiKeyScope>
export const apiKeyScopes = someOf(apiKeyScope)

export const createApiKeyInput = z
  .object({
    name: nameSchema,
    scopes: apiKeyScopes,
    expiresInDays: z.number().int().min(1).max(3650).optional(),
  })
  .strict()
export type CreateApiKeyInput = z.input<typeof createApiKeyInput>

export const apiKeyParams = z.object({ orgId: idSchema, apiKeyId: idSchema })

/** What an organization can subscribe its webhook endpoints to. */
export const WEBHOOK_EVENT_TYPES = [
  'project.created',
  'project.updated',
  'project.deleted',
  'task.created',
  'task.updated',
  'task.deleted',
] as const
export const webhookEventType = z.enum(WEBHOOK_EVENT_TYPES)
export type WebhookEventType = z.output<typeof webhookEventType>
export const webhookEvents = someOf(webhookEventType)

/** As the database declares them (webhook_delivery_status). */
export const WEBHOOK_DELIVERY_STATUSES = ['pending', 'succeeded', 'failed', 'canceled'] as const
export const webhookDeliveryStatus = z.enum(WEBHOOK_DELIVERY_STATUSES)
export type WebhookDeliveryStatus = z.output<typeof webhookDeliveryStatus>

// Only the shape: whether the address is public is decided by the API when it resolves it.
export const webhookUrlSchema = z
  .string()
  .trim()
  .min(1)
  .max(2000)
  .describe('https://, and a public address.')

export const createWebhookEndpointInput = z
  .object({
    url: webhookUrlSchema,
    description: textSchema(500).optional(),
    events: webhookEvents,
  })
  .strict()
export type CreateWebhookEndpointInput = z.input<typeof createWebhookEndpointInput>

export const updateWebhookEndpointInput = z
  .object({
    url: webhookUrlSchema.optional(),
    description: textSchema(500).optional(),
    events: webhookEvents.optional(),
    enabled: z.boolean().optional(),
  })
  .strict()
export type UpdateWebhookEndpointInput = z.input<typeof updateWebhookEndpointInput>

export const webhookEndpointParams = z.object({ orgId: idSchema, endpointId: idSchema })
export const webhookDeliveryParams = webhookEndpointParams.extend({ deliveryId: idSchema })

export const listWebhookDeliveriesQuery = listQuery.extend({
  status: webhookDeliveryStatus.optional(),
})
export type ListWebhookDeliveriesQuery = z.input<typeof listWebhookDeliveriesQuery>
