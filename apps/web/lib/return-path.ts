/** Where a signed-in user lands when no (acceptable) return path was given. */
export const HOME_PATH = '/orgs'

const BASE = 'http://app.invalid'

/**
 * A return path (`?next=`) the app may redirect to: a path on this site, or the fallback.
 * Anything that a browser could read as another origin is refused: a scheme, `//host`,
 * `/\host` (browsers treat `\` as `/`), encoded or control-character tricks, and paths
 * into the app's own machinery.
 */
export function safeReturnPath(value: unknown, fallback: string = HOME_PATH): string {
  if (typeof value !== 'string' || value.length === 0 || value.length > 2_000) return fallback
  if (!value.startsWith('/') || value.startsWith('//') || value.startsWith('/\\')) return fallback
  // biome-ignore lint/suspicious/noControlCharactersInRegex: refusing control characters is the point
  if (/[\u0000-\u001f\u007f\\]/.test(value)) return fallback
  let url: URL
  try {
    url = new URL(value, BASE)
  } catch {
    return fallback
  }
  if (url.origin !== BASE) return fallback
  if (url.pathname.startsWith('/_next') || url.pathname.startsWith('/api/')) return fallback
  return `${url.pathname}${url.search}${url.hash}`
}
