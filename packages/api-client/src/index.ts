import createClient, { type Middleware } from 'openapi-fetch'
import type { components, paths } from './generated/schema.ts'

export type { components, paths }
export type ApiClient = ReturnType<typeof createApiClient>

export interface ApiClientOptions {
  /** The API's base URL, e.g. http://127.0.0.1:4000 */
  baseUrl: string
  /** A session token or an organization API key; sent as `Authorization: Bearer`. */
  token?: string
  /** Forwarded as X-Request-Id, to follow one action through the API's logs. */
  requestId?: string
  /**
   * The end user's address, for a server calling the API on a user's behalf (the web
   * app): sent as X-Forwarded-For, which the API believes only from the proxies in its
   * TRUST_PROXY. Per-address limits, sessions and the audit log then see the user, not
   * the server; from anyone else the header is ignored.
   */
  clientAddress?: string
  /** The end user's browser, sent as User-Agent: the API shows it in the session list. */
  userAgent?: string
  fetch?: typeof fetch
}

/**
 * A typed client for the Groundwork API, generated from its OpenAPI document: paths,
 * parameters, bodies and every response (problem+json errors included) are checked at
 * compile time. The web app's server uses it; so can scripts and other services.
 */
export function createApiClient(options: ApiClientOptions) {
  const client = createClient<paths>({
    baseUrl: options.baseUrl,
    ...(options.fetch ? { fetch: options.fetch } : {}),
  })
  const headers: Middleware = {
    onRequest({ request }) {
      if (options.token) request.headers.set('authorization', `Bearer ${options.token}`)
      if (options.requestId) request.headers.set('x-request-id', options.requestId)
      if (options.clientAddress) request.headers.set('x-forwarded-for', options.clientAddress)
      if (options.userAgent) request.headers.set('user-agent', options.userAgent)
      return request
    },
  }
  client.use(headers)
  return client
}
