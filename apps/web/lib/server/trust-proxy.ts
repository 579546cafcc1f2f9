import { randomUUID } from 'node:crypto'
import { subscribe } from 'node:diagnostics_channel'
import type { IncomingMessage } from 'node:http'
import type { Socket } from 'node:net'
import { clientAddress } from '../client-address.ts'

/** The request header that carries the vetted address from the socket to the pages. */
const HEADER = 'x-groundwork-client-address'
// One per process, shared by the separately bundled instrumentation and app code, so a
// client cannot write a header the pages would take for the vetted one.
const MARKER = Symbol.for('groundwork.clientAddressMarker')
const store = globalThis as { [MARKER]?: string }

/**
 * Next keeps a client's own X-Forwarded-For as it came (it adds the peer only when the
 * header is missing), and pages never see the socket. Before Next reads a request, work
 * out the one address the configured proxies vouch for and hand it on, signed with a
 * per-process marker: the address the API rate-limits and records is the end user's.
 */
export function trustProxyHops(hops: number): void {
  const marker = randomUUID()
  store[MARKER] = marker
  subscribe('http.server.request.start', (message) => {
    const { request, socket } = message as { request: IncomingMessage; socket: Socket }
    const address = clientAddress(
      request.headers['x-forwarded-for'],
      socket.remoteAddress ?? undefined,
      hops,
    )
    request.headers[HEADER] = address ? `${marker} ${address}` : ''
  })
}

/**
 * The end user's address as vetted above; undefined when the request was not vetted (it
 * arrived before start-up finished) or claims a marker it cannot know.
 */
export function endUserAddress(headers: Headers): string | undefined {
  const marker = store[MARKER]
  const value = headers.get(HEADER)
  if (!marker || !value?.startsWith(`${marker} `)) return undefined
  return value.slice(marker.length + 1)
}
