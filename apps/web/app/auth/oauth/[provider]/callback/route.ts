import { oauthCallbackInput, oauthProvider } from '@repo/schemas'
import { cookies } from 'next/headers'
import { type NextRequest, NextResponse } from 'next/server'
import { z } from 'zod'
import { MFA_COOKIE, MFA_COOKIE_MAX_AGE_SECONDS } from '@/app/(auth)/mfa-cookie.ts'
import { OAUTH_COOKIE } from '@/app/(auth)/oauth-cookie.ts'
import { loadWebEnv } from '@/lib/env.ts'
import { safeReturnPath } from '@/lib/return-path.ts'
import { callAnonymous } from '@/lib/server/api.ts'
import { requestLogger } from '@/lib/server/request-id.ts'
import { sessionCookie, writeSessionToken } from '@/lib/server/session.ts'

const pending = z.object({ provider: oauthProvider, binding: z.string(), next: z.string() })

/** A cookie's JSON, or null when it is missing, cut short or tampered with. */
function parseJson(value: string | undefined): unknown {
  try {
    return JSON.parse(value ?? 'null')
  } catch {
    return null
  }
}

/**
 * Where the provider sends the browser back. The one GET that signs in, and necessarily
 * cross-site (the provider's page starts it), so Origin cannot vouch for it: the state
 * (single use, checked by the API) and the binding cookie this browser got when it left
 * do. Any failure lands on the sign-in page with a message, never an error page.
 */
export async function GET(
  request: NextRequest,
  context: { params: Promise<{ provider: string }> },
) {
  const app = loadWebEnv().APP_URL
  const log = await requestLogger()
  const fail = (reason: string) => {
    log.info({ reason }, 'OAuth sign-in did not complete')
    return NextResponse.redirect(
      new URL(`/sign-in?${new URLSearchParams({ error: reason })}`, app),
      303,
    )
  }
  const jar = await cookies()
  const stored = pending.safeParse(parseJson(jar.get(OAUTH_COOKIE)?.value))
  jar.delete(OAUTH_COOKIE)
  const { provider } = await context.params
  if (!stored.success || stored.data.provider !== provider) return fail('oauth_expired')
  const query = request.nextUrl.searchParams
  if (query.get('error')) return fail('oauth_denied')
  const input = oauthCallbackInput.safeParse({
    code: query.get('code'),
    state: query.get('state'),
    binding: stored.data.binding,
  })
  if (!input.success) return fail('oauth_failed')
  const result = await callAnonymous((api) =>
    api.POST('/v1/auth/oauth/{provider}/callback', {
      params: { path: { provider: stored.data.provider } },
      body: input.data,
    }),
  )
  if (!result.ok) return fail(result.problem.status === 429 ? 'rate_limited' : 'oauth_failed')
  const next = safeReturnPath(stored.data.next)
  if ('mfaRequired' in result.data) {
    jar.set(MFA_COOKIE, result.data.mfaToken, {
      ...sessionCookie().options,
      maxAge: MFA_COOKIE_MAX_AGE_SECONDS,
    })
    return NextResponse.redirect(new URL(`/sign-in/mfa?${new URLSearchParams({ next })}`, app), 303)
  }
  await writeSessionToken(result.data.token)
  return NextResponse.redirect(new URL(next, app), 303)
}
