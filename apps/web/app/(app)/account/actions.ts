'use server'

import { changePasswordInput, idSchema, oauthProvider, updateProfileInput } from '@repo/schemas'
import { revalidatePath } from 'next/cache'
import { redirect } from 'next/navigation'
import { z } from 'zod'
import { defineAction } from '@/lib/server/action.ts'
import { callApi } from '@/lib/server/api.ts'
import { clearSessionToken, writeSessionToken } from '@/lib/server/session.ts'

/** Every other session ends; this browser gets the new token the API hands back. */
export const changePassword = defineAction(changePasswordInput, async (input) => {
  const result = await callApi((api) => api.POST('/v1/auth/password', { body: input }))
  if (!result.ok) return result
  await writeSessionToken(result.data.token)
  return { ok: true, data: null }
})

export const revokeSession = defineAction(
  z.object({ sessionId: idSchema }),
  async ({ sessionId }) => {
    const result = await callApi((api) =>
      api.DELETE('/v1/auth/sessions/{sessionId}', { params: { path: { sessionId } } }),
    )
    if (result.ok) revalidatePath('/account/security')
    return result
  },
)

/** Signs out every other device, keeping this one. */
export const revokeOtherSessions = defineAction(z.object({}), async () => {
  const result = await callApi((api) => api.POST('/v1/auth/sessions/revoke-others'))
  if (result.ok) revalidatePath('/account/security')
  return result
})

/** Sign out everywhere: every other session, then this one. */
export const signOutEverywhere = defineAction(z.object({}), async () => {
  const result = await callApi((api) => api.POST('/v1/auth/sessions/revoke-others'))
  if (!result.ok) return result
  await callApi((api) => api.POST('/v1/auth/sign-out'), { whenSignedOut: 'answer' })
  await clearSessionToken()
  redirect('/sign-in?signedOut=1')
})

export const updateProfile = defineAction(updateProfileInput, async (input) => {
  const result = await callApi((api) => api.PATCH('/v1/auth/me', { body: input }))
  // The name shows in the header on every page.
  if (result.ok) revalidatePath('/', 'layout')
  return result
})

export const unlinkOAuthAccount = defineAction(
  z.object({ provider: oauthProvider }),
  async ({ provider }) => {
    const result = await callApi((api) =>
      api.DELETE('/v1/auth/oauth/accounts/{provider}', { params: { path: { provider } } }),
    )
    if (result.ok) revalidatePath('/account')
    return result
  },
)
