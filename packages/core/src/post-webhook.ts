import { lookup as dnsLookup, type LookupAddress, type LookupAllOptions } from 'node:dns'
import http from 'node:http'
import https from 'node:https'
import { isIP, type LookupFunction } from 'node:net'
import { RequestFilteringHttpAgent, RequestFilteringHttpsAgent } from 'request-filtering-agent'
import { isAllowedTarget, isPublicAddress, portOf, type TargetPolicy } from './webhook-url.ts'

/** How much of an endpoint's answer the attempt log keeps. */
const RESPONSE_EXCERPT = 2_000

const agents = new Map<boolean, { http: http.Agent; https: https.Agent }>()
/**
 * Agents that check the address actually connected to, after DNS: a host that passed
 * the check at registration and now resolves to 127.0.0.1 or 169.254.169.254 (DNS
 * rebinding) is refused here. `admitted` holds the exact inside addresses our own check
 * (which knows the allow-list's ports) has just let through for this request, so the
 * agent lets those and nothing else inside through. Exact addresses, not the list's
 * ranges: the agent compares a range only with an address of its own family and warns on
 * stderr for every other pair.
 */
function agentsFor(policy: TargetPolicy, admitted: string[]) {
  const filtering = (allowIPAddressList: string[]) => {
    const options = {
      allowPrivateIPAddress: policy.allowPrivateTargets,
      allowIPAddressList,
      keepAlive: false,
    }
    return {
      http: new RequestFilteringHttpAgent(options),
      https: new RequestFilteringHttpsAgent(options),
    }
  }
  // With an allow-list, one pair per request (their list is this request's); else shared.
  if (policy.allowedPrivateTargets?.length && !policy.allowPrivateTargets)
    return filtering(admitted)
  let pair = agents.get(policy.allowPrivateTargets)
  if (!pair) {
    pair = filtering([])
    agents.set(policy.allowPrivateTargets, pair)
  }
  return pair
}

/** Resolves a host name to all its addresses, as `dns.lookup` with `all: true` does. */
export type NameResolver = (
  hostname: string,
  options: LookupAllOptions,
  callback: (err: NodeJS.ErrnoException | null, addresses: LookupAddress[]) => void,
) => void

/**
 * The connection's own DNS look-up: fails when the name resolves to any address that
 * `allowed` refuses (by default, any that is not public: our own classification,
 * stricter than the agent's on IPv4-compatible IPv6). The second check at connection
 * time, beside request-filtering-agent's. The connection goes to the addresses this
 * look-up checked, and asks nothing else: a name that answers differently a moment
 * later (DNS rebinding) changes nothing.
 */
export function guardedLookup(
  resolve: NameResolver = dnsLookup,
  allowed: (address: string) => boolean = isPublicAddress,
  /** Receives every inside (not public) address this look-up lets through. */
  admit?: (address: string) => void,
): LookupFunction {
  return (hostname, options, callback) =>
    resolve(hostname, { ...options, all: true }, (err, addresses) => {
      if (err) return callback(err, '', 0)
      const refused = addresses.find((a) => !allowed(a.address))
      if (refused || addresses.length === 0)
        return callback(
          new Error(
            `${hostname} resolves to ${refused?.address ?? 'nothing'}, which is not allowed`,
          ),
          '',
          0,
        )
      for (const { address } of addresses) if (!isPublicAddress(address)) admit?.(address)
      if (options.all) return (callback as (e: null, a: LookupAddress[]) => void)(null, addresses)
      const first = addresses[0] as LookupAddress
      return callback(null, first.address, first.family)
    })
}

export interface PostResult {
  status?: number
  body?: string
  error?: string
}

/**
 * POSTs a body and reads the status and the first bytes of the answer. Never throws:
 * connection errors, refusals by the address check and timeouts come back as `error`.
 */
export function postWebhook(
  target: string,
  body: string,
  headers: Record<string, string>,
  options: TargetPolicy & {
    timeoutMs: number
    signal?: AbortSignal | undefined
    /** Resolves host names (DNS by default); the guard checks what it answers. */
    resolve?: NameResolver | undefined
  },
): Promise<PostResult> {
  const url = new URL(target)
  const admitted: string[] = []
  const agent = agentsFor(options, admitted)
  const host = url.hostname.replace(/^\[|\]$/g, '')
  const port = portOf(url)
  const allowed = (address: string) => isAllowedTarget(address, port, options.allowedPrivateTargets)
  // An address in the URL is connected to without a look-up: check it here.
  if (!options.allowPrivateTargets && isIP(host)) {
    if (!allowed(host))
      return Promise.resolve({
        error: `blocked by the SSRF guard: ${host} is not a public address`,
      })
    if (!isPublicAddress(host)) admitted.push(host)
  }
  const deadline = AbortSignal.timeout(options.timeoutMs)
  const signal = options.signal ? AbortSignal.any([deadline, options.signal]) : deadline
  const send = url.protocol === 'https:' ? https.request : http.request
  return new Promise((resolve) => {
    let settled = false
    const finish = (result: PostResult) => {
      if (settled) return
      settled = true
      resolve(result)
    }
    const request = send(
      url,
      {
        method: 'POST',
        agent: url.protocol === 'https:' ? agent.https : agent.http,
        lookup: guardedLookup(
          options.resolve,
          options.allowPrivateTargets ? () => true : allowed,
          (address) => admitted.push(address),
        ),
        headers: { ...headers, 'content-length': String(Buffer.byteLength(body)) },
        signal,
      },
      (response) => {
        const chunks: Buffer[] = []
        let size = 0
        const done = () => {
          response.destroy()
          finish({
            status: response.statusCode ?? 0,
            body: Buffer.concat(chunks).toString('utf8').slice(0, RESPONSE_EXCERPT),
          })
        }
        response.on('data', (chunk: Buffer) => {
          chunks.push(chunk)
          size += chunk.length
          // Enough for the log: stop reading a large answer.
          if (size >= RESPONSE_EXCERPT) done()
        })
        response.on('end', done)
        response.on('error', done)
      },
    )
    request.on('error', (err: NodeJS.ErrnoException) => {
      const reason = deadline.aborted
        ? `timed out after ${options.timeoutMs} ms`
        : signal.aborted
          ? 'stopped: the attempt ran out of time'
          : err.message.includes('is not allowed')
            ? `blocked by the SSRF guard: ${err.message}`
            : `${err.code ? `${err.code}: ` : ''}${err.message}`
      finish({ error: reason })
    })
    request.end(body)
  })
}
