import { lookup } from 'node:dns/promises'
import { isIP } from 'node:net'
import ipaddr from 'ipaddr.js'
import pTimeout from 'p-timeout'
import { AppError } from './app-error.ts'

const MAX_URL_LENGTH = 2000
const DNS_TIMEOUT_MS = 3_000
// Names that mean "this machine" or "this network" whatever DNS says.
const LOCAL_NAMES = /(^|\.)(localhost|local|internal|home\.arpa|localdomain)\.?$/i

const invalidUrl = (reason: string) =>
  new AppError({
    code: 'invalid_webhook_url',
    status: 422,
    userMessage: `The endpoint URL is not allowed: ${reason}`,
    fields: [{ field: 'url', message: reason }],
  })

/**
 * Whether an address is one an outgoing request may reach: public unicast only. Loopback,
 * private, link-local (cloud metadata at 169.254.169.254), carrier-grade NAT, multicast,
 * reserved, and IPv4-mapped IPv6 forms of them are not. ipaddr.js classifies the ranges;
 * the delivery's connection check (request-filtering-agent) uses the same classification.
 */
export function isPublicAddress(address: string): boolean {
  if (!ipaddr.isValid(address)) return false
  let parsed = ipaddr.parse(address)
  if (parsed.kind() === 'ipv6') {
    const v6 = parsed as ipaddr.IPv6
    if (v6.isIPv4MappedAddress()) parsed = v6.toIPv4Address()
    // IPv4-compatible (::a.b.c.d, deprecated): ipaddr.js calls these unicast, yet
    // ::7f00:1 is 127.0.0.1 to some stacks. No public service uses them.
    else if (v6.parts.slice(0, 6).every((part) => part === 0)) return false
  }
  return parsed.range() === 'unicast'
}

/**
 * An internal address or range deliveries may reach with the guard on, on one port or any
 * (WEBHOOKS_ALLOWED_PRIVATE_TARGETS, parsed by @repo/config).
 */
export interface AllowedTarget {
  address: string
  prefix: number
  port?: number | undefined
}

/** What the SSRF guard lets through. */
export interface TargetPolicy {
  /** No guard at all: any address, http too (development and tests only). */
  allowPrivateTargets: boolean
  /** Non-public addresses the guard lets through all the same, each on its port. */
  allowedPrivateTargets?: readonly AllowedTarget[] | undefined
}

/**
 * Whether a connection to `address` on `port` passes the guard: a public address, or an
 * inside one that the allow-list names for that port. IPv4-mapped IPv6 is judged as the
 * IPv4 address it carries.
 */
export function isAllowedTarget(
  address: string,
  port: number,
  allowed: readonly AllowedTarget[] = [],
): boolean {
  if (isPublicAddress(address)) return true
  if (allowed.length === 0 || !ipaddr.isValid(address)) return false
  let parsed = ipaddr.parse(address)
  if (parsed.kind() === 'ipv6' && (parsed as ipaddr.IPv6).isIPv4MappedAddress())
    parsed = (parsed as ipaddr.IPv6).toIPv4Address()
  return allowed.some((target) => {
    if (target.port !== undefined && target.port !== port) return false
    const network = ipaddr.parse(target.address)
    return network.kind() === parsed.kind() && parsed.match(network, target.prefix)
  })
}

/** The port a URL connects to: its own, or its scheme's. */
export const portOf = (url: URL) => Number(url.port || (url.protocol === 'https:' ? 443 : 80))

/**
 * Checks an endpoint URL when it is registered or changed, and returns it normalised.
 * Only https (http too where private targets are allowed, for local receivers); no
 * credentials or fragment; and unless private targets are allowed, a host that is not an
 * internal name and that resolves only to public addresses (or to addresses the
 * allow-list names for the URL's port: then any name is judged by where it leads). DNS
 * can change after this check, so every delivery checks the connected address again
 * (DNS rebinding).
 */
export async function checkWebhookUrl(input: string, options: TargetPolicy): Promise<string> {
  if (input.length > MAX_URL_LENGTH) throw invalidUrl(`longer than ${MAX_URL_LENGTH} characters`)
  let url: URL
  try {
    url = new URL(input)
  } catch {
    throw invalidUrl('not an absolute URL')
  }
  const schemes = options.allowPrivateTargets ? ['https:', 'http:'] : ['https:']
  if (!schemes.includes(url.protocol))
    throw invalidUrl(`the scheme must be ${schemes.join(' or ')}`)
  if (url.username || url.password) throw invalidUrl('credentials in the URL are not allowed')
  if (url.hash) throw invalidUrl('a fragment is not allowed')
  if (options.allowPrivateTargets) return url.toString()

  // WHATWG URL parsing has already turned 0x7f000001, 2130706433 and 127.1 into 127.0.0.1.
  const host = url.hostname.replace(/^\[|\]$/g, '')
  const allowed = options.allowedPrivateTargets ?? []
  const port = portOf(url)
  if (isIP(host)) {
    if (!isAllowedTarget(host, port, allowed)) throw invalidUrl('the address is not a public one')
    return url.toString()
  }
  if (allowed.length === 0 && (LOCAL_NAMES.test(host) || !host.includes('.')))
    throw invalidUrl('the host is an internal name')
  let addresses: { address: string }[]
  try {
    addresses = await pTimeout(lookup(host, { all: true, verbatim: true }), {
      milliseconds: DNS_TIMEOUT_MS,
    })
  } catch {
    throw invalidUrl('the host name does not resolve')
  }
  if (addresses.length === 0) throw invalidUrl('the host name does not resolve')
  if (addresses.some((a) => !isAllowedTarget(a.address, port, allowed)))
    throw invalidUrl('the host name resolves to an address that is not a public one')
  return url.toString()
}
