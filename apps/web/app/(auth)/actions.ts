'use server'

import { signInInput, signUpInput } from '@repo/schemas'
import { cookies } from 'next/headers'
import { redirect } from 'next/navigation'
import { z } from 'zod'
import { safeReturnPath } from '@/lib/return-path.ts'
import { defineAction } from '@/lib/server/action.ts'
import { callAnonymous, callApi } from '@/lib/server/api.ts'
import { clearSessionToken, sessionCookie, writeSessionToken } from '@/lib/server/session.ts'
import { MFA_COOKIE, MFA_COOKIE_MAX_AGE_SECONDS } from './mfa-cookie.ts'

const returnPath = z.object({ next: z.string().max(2_000).optional() })

export const signIn = defineAction(
  signInInput.extend(returnPath.shape),
  async ({ email, password, next }) => {
    const result = await callAnonymous((api) =>
      api.POST('/v1/auth/sign-in', { body: { email, password } }),
    )
    if (!result.ok) return result
    if ('mfaRequired' in result.data) {
      const { options } = sessionCookie()
      ;(await cookies()).set(MFA_COOKIE, result.data.mfaToken, {
        ...options,
        maxAge: MFA_COOKIE_MAX_AGE_SECONDS,
      })
      redirect(`/sign-in/mfa?${new URLSearchParams({ next: safeReturnPath(next) })}`)
    }
    await writeSessionToken(result.data.token)
    redirect(safeReturnPath(next))
  },
)

export const signUp = defineAction(
  signUpInput.extend(returnPath.shape),
  async ({ next, ...body }) => {
    const result = await callAnonymous((api) => api.POST('/v1/auth/sign-up', { body }))
    if (!result.ok) return result
    await writeSessionToken(result.data.token)
    // Back to where they came from (an invitation), else to creating their organization.
    redirect(next ? safeReturnPath(next) : '/orgs/new?welcome=1')
  },
)

export const signOut = defineAction(returnPath, async ({ next }) => {
  // The API ends the session; the cookie goes whatever it answered (it may be gone already).
  await callApi((api) => api.POST('/v1/auth/sign-out'), { whenSignedOut: 'answer' })
  await clearSessionToken()
  const query = new URLSearchParams({ signedOut: '1' })
  // Signing out to continue as someone else (an invitation for another address).
  if (next) query.set('next', safeReturnPath(next))
  redirect(`/sign-in?${query}`)
})
