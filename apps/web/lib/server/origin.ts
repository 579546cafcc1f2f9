import 'server-only'
import { loadWebEnv } from '../env.ts'

/**
 * Whether a state-changing request came from a page of this site. The browser sets
 * `Origin` on every POST and `Sec-Fetch-Site` on every request; scripts on other sites can
 * forge neither. A missing `Origin` is refused too: browsers always send it with a POST,
 * so only a non-browser client or a stripped request lacks it (Next itself only warns).
 */
export function isSameOrigin(headers: Headers): boolean {
  const expected = new URL(loadWebEnv().APP_URL).origin
  const origin = headers.get('origin')
  if (!origin || origin !== expected) return false
  const site = headers.get('sec-fetch-site')
  return site === null || site === 'same-origin'
}
