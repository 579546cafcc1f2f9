'use server'

import { oauthProvider } from '@repo/schemas'
import { cookies } from 'next/headers'
import { redirect } from 'next/navigation'
import { z } from 'zod'
import { safeReturnPath } from '@/lib/return-path.ts'
import { defineAction } from '@/lib/server/action.ts'
import { callAnonymous } from '@/lib/server/api.ts'
import { OAUTH_COOKIE, OAUTH_COOKIE_MAX_AGE_SECONDS, oauthCookieOptions } from './oauth-cookie.ts'

/**
 * Off to the provider. The API's binding goes into an HttpOnly cookie of this browser: a
 * callback arriving in another browser (someone else's code and state) cannot finish.
 */
export const startOAuth = defineAction(
  z.object({ provider: oauthProvider, next: z.string().max(2_000).optional() }),
  async ({ provider, next }) => {
    const result = await callAnonymous((api) =>
      api.POST('/v1/auth/oauth/{provider}/start', { params: { path: { provider } } }),
    )
    if (!result.ok) return result
    const value = JSON.stringify({
      provider,
      binding: result.data.binding,
      next: safeReturnPath(next),
    })
    ;(await cookies()).set(OAUTH_COOKIE, value, {
      ...oauthCookieOptions(),
      maxAge: OAUTH_COOKIE_MAX_AGE_SECONDS,
    })
    redirect(result.data.authorizationUrl)
  },
)
