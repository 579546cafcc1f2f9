import 'server-only'
import { cookies } from 'next/headers'
import { loadWebEnv } from '../env.ts'

/**
 * The session cookie: HttpOnly (no script reads it), SameSite=Lax (no cross-site POST
 * carries it), path /. Over https it is Secure with the `__Host-` prefix, which browsers
 * accept only from this exact origin, Secure and on path /, so no sibling subdomain can
 * set or shadow it. Plain http (local development, loopback tests) cannot set Secure
 * cookies everywhere, so there it goes without the prefix.
 */
export function sessionCookie() {
  const secure = new URL(loadWebEnv().APP_URL).protocol === 'https:'
  return {
    name: secure ? '__Host-groundwork_session' : 'groundwork_session',
    options: { httpOnly: true, secure, sameSite: 'lax' as const, path: '/' },
  }
}

// The API decides how long a session lives (sliding and absolute expiry); the cookie only
// needs to outlive it, and a stale cookie is harmless: the API refuses it.
const COOKIE_MAX_AGE_SECONDS = 60 * 60 * 24 * 400

export async function readSessionToken(): Promise<string | undefined> {
  const { name } = sessionCookie()
  return (await cookies()).get(name)?.value || undefined
}

/** In a Server Action or route handler only (pages cannot set cookies). */
export async function writeSessionToken(token: string): Promise<void> {
  const { name, options } = sessionCookie()
  ;(await cookies()).set(name, token, { ...options, maxAge: COOKIE_MAX_AGE_SECONDS })
}

export async function clearSessionToken(): Promise<void> {
  const { name, options } = sessionCookie()
  ;(await cookies()).set(name, '', { ...options, maxAge: 0 })
}
