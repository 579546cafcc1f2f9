import 'server-only'
import { notFound } from 'next/navigation'

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i

/** An id from the URL: anything that is not a UUID cannot exist, so it is the 404 page. */
export function idOrNotFound(value: string): string {
  if (!UUID.test(value)) notFound()
  return value
}
