import 'server-only'
import { sessionCookie } from '@/lib/server/session.ts'

/** An OAuth sign-in under way: the API's binding and where to land afterwards. */
export const OAUTH_COOKIE = 'groundwork_oauth'
export const OAUTH_COOKIE_MAX_AGE_SECONDS = 10 * 60

/**
 * Like the session cookie, but SameSite=Lax matters here in the other direction: the
 * provider sends the browser back with a top-level GET, which Lax cookies accompany.
 */
export function oauthCookieOptions() {
  return sessionCookie().options
}
