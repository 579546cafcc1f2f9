import 'server-only'
import { notFound } from 'next/navigation'

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i

/** An id from the URL: anything that is not a UUID cannot exist, so it is the 404 page. */
export function idOrNotFound(value: string): string {
  if (!UUID.test(value)) notFound()
  return value
}

type Search = Record<string, string | string[] | undefined>

/** One value of a query parameter (the first, if it was given twice). */
export function one(search: Search, key: string): string | undefined {
  const value = search[key]
  return Array.isArray(value) ? value[0] : value
}
