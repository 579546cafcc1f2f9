'use server'

import { confirmTotpInput } from '@repo/schemas'
import { revalidatePath } from 'next/cache'
import QRCode from 'qrcode'
import { z } from 'zod'
import { defineAction } from '@/lib/server/action.ts'
import { callApi } from '@/lib/server/api.ts'
import { writeSessionToken } from '@/lib/server/session.ts'

/**
 * Starts enrolment: the secret for manual entry and the otpauth URI drawn as a QR code
 * here, on the server, so no QR library ships to the browser.
 */
export const startTotpSetup = defineAction(z.object({}), async () => {
  const result = await callApi((api) => api.POST('/v1/auth/mfa/totp/setup'))
  if (!result.ok) return result
  const qr = await QRCode.toDataURL(result.data.uri, { margin: 1, width: 220 })
  return { ok: true, data: { secret: result.data.secret, qr } }
})

/** Two-factor on: the API ends other sessions and hands this browser a new one. */
export const confirmTotpSetup = defineAction(confirmTotpInput, async (input) => {
  const result = await callApi((api) => api.POST('/v1/auth/mfa/totp/confirm', { body: input }))
  if (!result.ok) return result
  await writeSessionToken(result.data.token)
  revalidatePath('/account/security')
  return { ok: true, data: { recoveryCodes: result.data.recoveryCodes } }
})

export const disableMfa = defineAction(z.object({}), async () => {
  const result = await callApi((api) => api.DELETE('/v1/auth/mfa'))
  if (result.ok) revalidatePath('/account/security')
  return result
})
