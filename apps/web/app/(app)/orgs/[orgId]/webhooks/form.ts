import { createWebhookEndpointInput, updateWebhookEndpointInput } from '@repo/schemas'
import { z } from 'zod'

/** A checkbox left alone arrives as false: one field for "enabled". */
export const createEndpointForm = createWebhookEndpointInput
export const updateEndpointForm = updateWebhookEndpointInput.extend({
  enabled: z.preprocess((value) => value === true || value === 'on', z.boolean()).optional(),
})
