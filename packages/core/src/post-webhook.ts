import { lookup as dnsLookup, type LookupAddress } from 'node:dns'
import http from 'node:http'
import https from 'node:https'
import { isIP, type LookupFunction } from 'node:net'
import { RequestFilteringHttpAgent, RequestFilteringHttpsAgent } from 'request-filtering-agent'
import { isPublicAddress } from './webhook-url.ts'

/** How much of an endpoint's answer the attempt log keeps. */
const RESPONSE_EXCERPT = 2_000

const agents = new Map<boolean, { http: http.Agent; https: https.Agent }>()
/**
 * Agents that check the address actually connected to, after DNS: a host that passed
 * the check at registration and now resolves to 127.0.0.1 or 169.254.169.254 (DNS
 * rebinding) is refused here.
 */
function agentsFor(allowPrivateTargets: boolean) {
  let pair = agents.get(allowPrivateTargets)
  if (!pair) {
    const options = { allowPrivateIPAddress: allowPrivateTargets, keepAlive: false }
    pair = {
      http: new RequestFilteringHttpAgent(options),
      https: new RequestFilteringHttpsAgent(options),
    }
    agents.set(allowPrivateTargets, pair)
  }
  return pair
}

/**
 * DNS look-up that fails when the name resolves to any address that is not public (our
 * own classification, stricter than the agent's on IPv4-compatible IPv6): the second
 * check at connection time, beside request-filtering-agent's.
 */
export function publicOnlyLookup(resolve: typeof dnsLookup = dnsLookup): LookupFunction {
  return (hostname, options, callback) =>
    resolve(hostname, { ...options, all: true }, (err, addresses: LookupAddress[]) => {
      if (err) return callback(err, '', 0)
      const refused = addresses.find((a) => !isPublicAddress(a.address))
      if (refused || addresses.length === 0)
        return callback(
          new Error(
            `${hostname} resolves to ${refused?.address ?? 'nothing'}, which is not allowed`,
          ),
          '',
          0,
        )
      if (options.all) return (callback as (e: null, a: LookupAddress[]) => void)(null, addresses)
      const first = addresses[0] as LookupAddress
      return callback(null, first.address, first.family)
    })
}
const lookupPublicOnly = publicOnlyLookup()

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
  options: { timeoutMs: number; allowPrivateTargets: boolean; signal?: AbortSignal },
): Promise<PostResult> {
  const url = new URL(target)
  const agent = agentsFor(options.allowPrivateTargets)
  const host = url.hostname.replace(/^\[|\]$/g, '')
  // An address in the URL is connected to without a look-up: check it here.
  if (!options.allowPrivateTargets && isIP(host) && !isPublicAddress(host))
    return Promise.resolve({ error: `blocked by the SSRF guard: ${host} is not a public address` })
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
        ...(options.allowPrivateTargets ? {} : { lookup: lookupPublicOnly }),
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
