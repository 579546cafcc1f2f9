import { createApiKeyInput } from '@repo/schemas'
import { numberFromText } from '@/lib/form-values.ts'

/** The form's spelling of the API's input: "Never" expires is empty, days arrive as text. */
export const apiKeyForm = createApiKeyInput.extend({
  expiresInDays: numberFromText(createApiKeyInput.shape.expiresInDays),
})
