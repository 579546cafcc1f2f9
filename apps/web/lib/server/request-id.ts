import 'server-only'
import { acceptRequestId, REQUEST_ID_HEADER } from '@repo/observability/request-id'
import { headers } from 'next/headers'
import { cache } from 'react'
import { serverLogger } from './logger.ts'

/**
 * This request's id: the one proxy.ts accepted or made (the caller's X-Request-Id when it
 * is plain, else a new one), or a new one for a request the proxy does not see. Sent to the
 * API on every call, so the API's and the worker's lines for it carry the same id.
 */
export const currentRequestId = cache(
  async (): Promise<string> => acceptRequestId((await headers()).get(REQUEST_ID_HEADER)),
)

/** The server logger with this request's id on every line. */
export async function requestLogger() {
  return serverLogger().child({ requestId: await currentRequestId() })
}
