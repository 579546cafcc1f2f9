/**
 * Personal data kept out of what leaves the process for Sentry and PostHog. Email addresses
 * are found by shape wherever they are (messages, exception values, breadcrumbs, extra data),
 * because a message built by a library can carry one no field name announces.
 */
const EMAIL = /[\w.!#$%&'*+/=?^`{|}~-]+@[\w-]+(?:\.[\w-]+)+/g

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
