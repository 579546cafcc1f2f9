'use server'

import {
  confirmPasswordResetInput,
  requestPasswordResetInput,
  verifyEmailInput,
} from '@repo/schemas'
import { redirect } from 'next/navigation'
import { z } from 'zod'
import { defineAction } from '@/lib/server/action.ts'
import { callAnonymous, callApi } from '@/lib/server/api.ts'

/** Always "sent" (the API answers 202 either way): no one learns which emails have accounts. */
export const requestPasswordReset = defineAction(requestPasswordResetInput, async (input) =>
  callAnonymous((api) => api.POST('/v1/auth/password-reset', { body: input })),
)

export const resetPassword = defineAction(confirmPasswordResetInput, async (input) => {
  const result = await callAnonymous((api) =>
    api.POST('/v1/auth/password-reset/confirm', { body: input }),
  )
  if (!result.ok) return result
  // Every session ended with the reset, this browser's too: sign in with the new password.
  redirect('/sign-in?reset=1')
})

export const verifyEmail = defineAction(verifyEmailInput, async (input) =>
  callAnonymous((api) => api.POST('/v1/auth/verify-email', { body: input })),
)

export const resendVerification = defineAction(z.object({}), async () =>
  callApi((api) => api.POST('/v1/auth/verify-email/resend')),
)
