import type { z } from 'zod'

export type Search = Record<string, string | string[] | undefined>

/** One value of a query parameter (the first, if it was given twice). */
export function one(search: Search, key: string): string | undefined {
  const value = search[key]
  return Array.isArray(value) ? value[0] : value
}

/**
 * A list's state from the URL, field by field against the API's own query schema: a value
 * someone edited into the address bar that the API would refuse is dropped (the list
 * shows its default) instead of turning the page into an error.
 */
export function listStateFrom<Shape extends z.ZodRawShape>(
  schema: z.ZodObject<Shape>,
  search: Search,
): Partial<{ [K in keyof Shape]: z.output<Shape[K]> }> {
  const state: Record<string, unknown> = {}
  for (const [key, field] of Object.entries(schema.shape)) {
    const value = one(search, key)
    if (value === undefined || value === '') continue
    const parsed = (field as z.ZodType).safeParse(value)
    if (parsed.success && parsed.data !== undefined) state[key] = parsed.data
  }
  return state as Partial<{ [K in keyof Shape]: z.output<Shape[K]> }>
}

/** The same list with some of its state changed (a filter, the next cursor). */
export function withQuery(
  path: string,
  state: Record<string, unknown>,
  changes: Record<string, string | undefined>,
): string {
  const query = new URLSearchParams()
  for (const [key, value] of Object.entries({ ...state, ...changes }))
    if (value !== undefined && value !== null && value !== '') query.set(key, String(value))
  const text = query.toString()
  return text ? `${path}?${text}` : path
}
