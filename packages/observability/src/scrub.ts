/**
 * Personal data kept out of what leaves the process for Sentry and PostHog. Email addresses
 * are found by shape wherever they are (messages, exception values, breadcrumbs, extra data),
 * because a message built by a library can carry one no field name announces.
 */
// The @ may be percent-encoded (%40), as in a URL's query string. The local part is the
// common alphabet (letters, digits, . _ + -), so a URL's ?, = or / never joins a match.
const EMAIL = /[\w.+-]+(?:@|%40)[\w-]+(?:\.[\w-]+)+/gi

export const EMAIL_PLACEHOLDER = '[email]'

/** Property names that hold a person's name or address: dropped from analytics events. */
export const PERSONAL_KEYS = new Set([
  'email',
  '$email',
  'name',
  '$name',
  'first_name',
  'last_name',
  'firstName',
  'lastName',
  'full_name',
  'fullName',
  'username',
  'phone',
])

/** A copy of `value` with every email address replaced, at any depth (cycles left as they are). */
export function scrubEmails<T>(value: T, seen = new WeakSet<object>()): T {
  if (typeof value === 'string') return value.replace(EMAIL, EMAIL_PLACEHOLDER) as T
  if (!value || typeof value !== 'object' || seen.has(value)) return value
  seen.add(value)
  if (Array.isArray(value)) return value.map((item) => scrubEmails(item, seen)) as T
  // Only plain data: class instances (Dates, Buffers) pass through untouched.
  const proto = Object.getPrototypeOf(value)
  if (proto !== Object.prototype && proto !== null) return value
  return Object.fromEntries(
    Object.entries(value).map(([key, item]) => [key, scrubEmails(item, seen)]),
  ) as T
}

/** `value` up to its query string or fragment. */
export function withoutQuery(value: string): string {
  const end = value.search(/[?#]/)
  return end === -1 ? value : value.slice(0, end)
}

// An absolute URL (any scheme) or a path, with a query string or a fragment.
const URL_WITH_QUERY = /^(?:[a-z][a-z\d+.-]*:\/\/|\/)\S*[?#]/i

/**
 * A copy of `value` in which every string that is a URL or a path loses its query string and
 * fragment, at any depth: a query carries single-use credentials (a password reset's, an
 * email verification's or an invitation's token, an OAuth code) that are valid when sent.
 */
export function stripUrlQueries<T>(value: T, seen = new WeakSet<object>()): T {
  if (typeof value === 'string')
    return (URL_WITH_QUERY.test(value) ? withoutQuery(value) : value) as T
  if (!value || typeof value !== 'object' || seen.has(value)) return value
  seen.add(value)
  if (Array.isArray(value)) return value.map((item) => stripUrlQueries(item, seen)) as T
  const proto = Object.getPrototypeOf(value)
  if (proto !== Object.prototype && proto !== null) return value
  return Object.fromEntries(
    Object.entries(value).map(([key, item]) => [key, stripUrlQueries(item, seen)]),
  ) as T
}

/** A copy of analytics properties without personal keys (at any depth) and without emails. */
export function scrubPersonalProperties(
  properties: Record<string, unknown>,
): Record<string, unknown> {
  const drop = (value: unknown): unknown => {
    if (Array.isArray(value)) return value.map(drop)
    if (!value || typeof value !== 'object') return value
    const proto = Object.getPrototypeOf(value)
    if (proto !== Object.prototype && proto !== null) return value
    return Object.fromEntries(
      Object.entries(value)
        .filter(([key]) => !PERSONAL_KEYS.has(key))
        .map(([key, item]) => [key, drop(item)]),
    )
  }
  return scrubEmails(drop(properties) as Record<string, unknown>)
}

/**
 * The last wall for personal data in an error event (Sentry's beforeSend, in every
 * service): no email address in any string of it, a message such as "user ann@example.com
 * not found" included, and the user reduced to an id.
 */
export function scrubErrorEvent<
  E extends {
    user?: { id?: string | number } | undefined
    request?: { headers?: Record<string, string> | undefined; cookies?: unknown } | undefined
  },
>(event: E): E {
  const scrubbed = scrubEmails(event)
  if (scrubbed.user) scrubbed.user = scrubbed.user.id === undefined ? {} : { id: scrubbed.user.id }
  if (scrubbed.request) {
    // Headers that carry a credential or say who and where someone is.
    const headers = Object.entries(scrubbed.request.headers ?? {}).filter(
      ([name]) => !PERSONAL_HEADERS.has(name.toLowerCase()),
    )
    scrubbed.request = {
      ...scrubbed.request,
      ...(scrubbed.request.headers ? { headers: Object.fromEntries(headers) } : {}),
    }
    delete scrubbed.request.cookies
  }
  return scrubbed
}

const PERSONAL_HEADERS = new Set([
  'authorization',
  'cookie',
  'set-cookie',
  'x-api-key',
  'x-forwarded-for',
  'x-real-ip',
  'forwarded',
  'cf-connecting-ip',
  'true-client-ip',
  'x-groundwork-client-address',
])

/**
 * What Sentry may collect, in every service (Sentry 11's `dataCollection`, which replaced
 * `sendDefaultPii`): no user fields, cookies or bodies, and no header that carries a
 * credential or says who and where someone is.
 */
export const SENTRY_DATA_COLLECTION = {
  userInfo: false,
  cookies: false,
  httpBodies: [] as never[],
  httpHeaders: {
    request: { deny: [...PERSONAL_HEADERS] },
    response: { deny: ['set-cookie'] },
  },
  urlQueryParams: true,
}

/**
 * Query parameters that carry a credential or an address: redacted by the HTTP
 * instrumentation itself (the span exporter drops every query string anyway, so that is a
 * second wall), and masked by posthog-js before it stores or sends the first URL of a
 * visit.
 */
export const CREDENTIAL_QUERY_PARAMS = [
  'token',
  'ticket',
  'code',
  'state',
  'secret',
  'key',
  'api_key',
  'signature',
  'sig',
  'password',
  'email',
  'AWSAccessKeyId',
  'Signature',
  'X-Goog-Signature',
  'X-Amz-Signature',
  'X-Amz-Credential',
  'X-Amz-Security-Token',
]
