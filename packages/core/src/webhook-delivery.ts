import { lookup as dnsLookup, type LookupAddress } from 'node:dns'
import http from 'node:http'
import https from 'node:https'
import { isIP, type LookupFunction } from 'node:net'
import { type PrismaClient, type TenantTransaction, withTenant } from '@repo/db'
import { emailJob, type JobDefinition, type WebhookEvent, webhookDeliveryJob } from '@repo/jobs'
import { RequestFilteringHttpAgent, RequestFilteringHttpsAgent } from 'request-filtering-agent'
import { Webhook } from 'standardwebhooks'
import { addToOutbox } from './outbox.ts'
import { openWebhookSecret } from './webhook-endpoints.ts'
import { isPublicAddress } from './webhook-url.ts'

/** What the worker's webhook handlers need. */
export interface WebhookDeliveryDeps {
  db: PrismaClient
  /** The key of secrets at rest: it opens the endpoints' signing secrets. */
  secretsKey: Buffer
  /** Lets deliveries connect to non-public addresses (development and tests only). */
  allowPrivateTargets: boolean
  /** One attempt's limit: connect, send, and the answer's head and first bytes. */
  timeoutMs: number
  /** Deliveries in a row that failed every attempt before the endpoint is disabled. */
  disableAfterFailures: number
  /** The web app's URL, for the link in the "endpoint disabled" email. */
  appUrl: string
  /** The delivery job's definition (tests shorten its backoff). */
  deliveryJob?: JobDefinition<typeof webhookDeliveryJob.schema>
}

/** How much of an endpoint's answer the attempt log keeps. */
const RESPONSE_EXCERPT = 2_000
const USER_AGENT = 'Groundwork-Webhooks/1.0'

/**
 * Fans an event out: one delivery row per endpoint subscribed to its type (and enabled)
 * now, and one delivery job each through the outbox, in one transaction. The unique
 * (endpoint, event) makes a rerun of this job add nothing: each endpoint gets the event
 * once. Returns the ids of the deliveries it created.
 */
export async function fanOutWebhookEvent(
  deps: Pick<WebhookDeliveryDeps, 'db' | 'deliveryJob'>,
  organizationId: string,
  event: WebhookEvent,
  meta: { requestId?: string | undefined } = {},
) {
  return withTenant(deps.db, { organizationId }, async (tx) => {
    const endpoints = await tx.webhookEndpoint.findMany({
      where: { disabledAt: null, events: { has: event.type } },
      select: { id: true },
    })
    if (endpoints.length === 0) return []
    const created = await tx.webhookDelivery.createManyAndReturn({
      data: endpoints.map((endpoint) => ({
        organizationId,
        endpointId: endpoint.id,
        eventId: event.eventId,
        eventType: event.type,
        payload: { type: event.type, timestamp: event.timestamp, data: event.data } as object,
      })),
      skipDuplicates: true,
      select: { id: true },
    })
    for (const delivery of created)
      await addToOutbox(
        tx,
        deps.deliveryJob ?? webhookDeliveryJob,
        { deliveryId: delivery.id },
        {
          organizationId,
          meta,
        },
      )
    return created.map((delivery) => delivery.id)
  })
}

export type DeliveryOutcome =
  | { outcome: 'succeeded'; status: number }
  | { outcome: 'failed'; error: string; final: boolean; disabledEndpoint: boolean }
  | { outcome: 'missing' | 'finished' | 'canceled' }

/**
 * One attempt of one delivery: signs the stored payload per Standard Webhooks (with the
 * previous secret too during a rotation's grace period), POSTs it, and records the
 * attempt. A failure on the last attempt marks the delivery failed and counts against
 * the endpoint; at the limit the endpoint is disabled and the organization's admins are
 * emailed, in the same transaction. The caller retries a non-final failure.
 */
export async function deliverWebhook(
  deps: WebhookDeliveryDeps,
  input: { organizationId: string; deliveryId: string; final: boolean; signal?: AbortSignal },
): Promise<DeliveryOutcome> {
  const { organizationId, deliveryId } = input
  const loaded = await withTenant(deps.db, { organizationId }, async (tx) => {
    const delivery = await tx.webhookDelivery.findUnique({
      where: { id: deliveryId },
      include: { endpoint: true },
    })
    if (!delivery) return { outcome: 'missing' } as const
    if (delivery.status !== 'pending') return { outcome: 'finished' } as const
    if (delivery.endpoint.disabledAt) {
      await tx.webhookDelivery.update({
        where: { id: deliveryId },
        data: { status: 'canceled', completedAt: new Date() },
      })
      return { outcome: 'canceled' } as const
    }
    return { outcome: 'ready', delivery } as const
  })
  if (loaded.outcome !== 'ready') return loaded
  const { delivery } = loaded
  const { endpoint } = delivery

  const secrets = [openWebhookSecret(deps.secretsKey, endpoint.secret)]
  if (
    endpoint.previousSecret &&
    endpoint.previousSecretExpiresAt &&
    endpoint.previousSecretExpiresAt > new Date()
  )
    secrets.push(openWebhookSecret(deps.secretsKey, endpoint.previousSecret))
  const body = JSON.stringify(delivery.payload)
  const sentAt = new Date()
  const headers = {
    'content-type': 'application/json',
    'user-agent': USER_AGENT,
    'webhook-id': delivery.eventId,
    'webhook-timestamp': String(Math.floor(sentAt.getTime() / 1000)),
    'webhook-signature': secrets
      .map((secret) => new Webhook(secret).sign(delivery.eventId, sentAt, body))
      .join(' '),
  }
  const started = performance.now()
  const result = await postWebhook(endpoint.url, body, headers, {
    timeoutMs: deps.timeoutMs,
    allowPrivateTargets: deps.allowPrivateTargets,
    ...(input.signal ? { signal: input.signal } : {}),
  })
  const durationMs = Math.round(performance.now() - started)
  const succeeded = result.status !== undefined && result.status >= 200 && result.status < 300
  const error = succeeded
    ? null
    : (result.error ??
      (result.status !== undefined && result.status >= 300 && result.status < 400
        ? `answered ${result.status}: redirects are not followed`
        : `answered ${result.status}`))

  const record = () =>
    withTenant(deps.db, { organizationId }, async (tx): Promise<DeliveryOutcome> => {
      const done = succeeded || input.final
      // The attempt's number comes from the counter itself: overlapping runs cannot share one.
      const [counted] = await tx.webhookDelivery.updateManyAndReturn({
        // Still pending: a second run of the same job (a stall) does not rewrite an outcome.
        where: { id: deliveryId, status: 'pending' },
        data: {
          attemptCount: { increment: 1 },
          lastAttemptAt: sentAt,
          ...(done ? { status: succeeded ? 'succeeded' : 'failed', completedAt: new Date() } : {}),
        },
        select: { attemptCount: true },
      })
      if (!counted) {
        // Deleted with its endpoint while the request was out, or ended meanwhile.
        const still = await tx.webhookDelivery.findUnique({
          where: { id: deliveryId },
          select: { id: true },
        })
        return { outcome: still ? 'finished' : 'missing' }
      }
      await tx.webhookDeliveryAttempt.create({
        data: {
          organizationId,
          deliveryId,
          attempt: counted.attemptCount,
          startedAt: sentAt,
          durationMs,
          responseStatus: result.status ?? null,
          responseBody: result.body === undefined ? null : storable(result.body),
          error: error === null ? null : storable(error).slice(0, 1000),
          succeeded,
        },
      })
      return succeeded
        ? afterSuccess(tx, endpoint.id, result.status as number)
        : afterFailure(deps, tx, { organizationId, endpoint, final: input.final, error })
    })
  try {
    return await record()
  } catch (err) {
    // Recording failed (the database, most likely). A failure with attempts left is simply
    // retried. Otherwise end the delivery with its real outcome in a smaller transaction,
    // so a delivered event is not sent again and a failed one does not stay pending.
    if (!succeeded && !input.final) throw err
    const ended = await withTenant(deps.db, { organizationId }, async (tx) => {
      const { count } = await tx.webhookDelivery.updateMany({
        where: { id: deliveryId, status: 'pending' },
        data: {
          status: succeeded ? 'succeeded' : 'failed',
          completedAt: new Date(),
          lastAttemptAt: sentAt,
          attemptCount: { increment: 1 },
        },
      })
      if (count === 1 && !succeeded)
        await tx.webhookEndpoint.updateMany({
          where: { id: endpoint.id },
          data: { consecutiveFailures: { increment: 1 } },
        })
      return count === 1
    }).catch(() => false)
    // Delivered and ended: nothing for an operator to do. Otherwise fail loudly (a dead letter).
    if (ended && succeeded) return { outcome: 'succeeded', status: result.status as number }
    throw err
  }
}

/** Postgres text cannot hold NUL: an endpoint's answer may (binary, compressed, hostile). */
const storable = (text: string) => text.replaceAll('\u0000', '\uFFFD')

async function afterSuccess(
  tx: TenantTransaction,
  endpointId: string,
  status: number,
): Promise<DeliveryOutcome> {
  await tx.webhookEndpoint.updateMany({
    where: { id: endpointId, consecutiveFailures: { gt: 0 } },
    data: { consecutiveFailures: 0 },
  })
  return { outcome: 'succeeded', status }
}

async function afterFailure(
  deps: WebhookDeliveryDeps,
  tx: TenantTransaction,
  input: {
    organizationId: string
    endpoint: { id: string; url: string }
    final: boolean
    error: string | null
  },
): Promise<DeliveryOutcome> {
  const { organizationId, endpoint } = input
  let disabledEndpoint = false
  if (input.final) {
    await tx.webhookEndpoint.updateMany({
      where: { id: endpoint.id },
      data: { consecutiveFailures: { increment: 1 } },
    })
    // Only the delivery that crosses the limit disables it (and sends the emails once).
    const { count } = await tx.webhookEndpoint.updateMany({
      where: {
        id: endpoint.id,
        disabledAt: null,
        consecutiveFailures: { gte: deps.disableAfterFailures },
      },
      data: {
        disabledAt: new Date(),
        disabledReason: `${deps.disableAfterFailures} deliveries in a row failed.`,
        version: { increment: 1 },
      },
    })
    if (count === 1) {
      disabledEndpoint = true
      await emailAdminsAboutDisabledEndpoint(deps, tx, {
        organizationId,
        endpointId: endpoint.id,
        endpointUrl: endpoint.url,
      })
    }
  }
  return { outcome: 'failed', error: input.error ?? 'failed', final: input.final, disabledEndpoint }
}

async function emailAdminsAboutDisabledEndpoint(
  deps: WebhookDeliveryDeps,
  tx: TenantTransaction,
  input: { organizationId: string; endpointId: string; endpointUrl: string },
) {
  const organization = await tx.organization.findUnique({
    where: { id: input.organizationId },
    select: { name: true },
  })
  const admins = await tx.membership.findMany({
    where: { role: { in: ['owner', 'admin'] } },
    select: { user: { select: { email: true, name: true } } },
  })
  const url = new URL(
    `/orgs/${input.organizationId}/settings/webhooks/${input.endpointId}`,
    deps.appUrl,
  ).toString()
  for (const { user } of admins)
    await addToOutbox(
      tx,
      emailJob,
      {
        template: 'webhook-endpoint-disabled',
        to: user.email,
        name: user.name.slice(0, 100),
        url,
        organizationName: (organization?.name ?? 'your organization').slice(0, 100),
        endpointUrl: input.endpointUrl,
        failures: deps.disableAfterFailures,
      },
      { organizationId: input.organizationId },
    )
}

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

interface PostResult {
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

/**
 * Keeps the delivery log bounded: deletes finished deliveries older than `keepDays` and
 * marks deliveries still pending after `stuckHours` failed (their job was lost). Runs
 * across organizations through a definer function granted only to the worker's login.
 */
export async function sweepWebhookDeliveries(
  deps: { db: PrismaClient },
  options: { keepDays: number; stuckHours: number },
) {
  const [row] = await deps.db.$queryRaw<[{ deleted: number; expired: number }]>`
    SELECT deleted, expired FROM webhook_deliveries_sweep(${options.keepDays}::int, ${options.stuckHours}::int)`
  return { deleted: row?.deleted ?? 0, expired: row?.expired ?? 0 }
}
