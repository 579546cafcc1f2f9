import {
  claimIdempotencyKey,
  completeIdempotencyKey,
  hashIdempotentRequest,
  type IdempotencyClaim,
  type IdempotencyScope,
  idempotencyKeyInUse,
  keyWithAnswer,
  releaseIdempotencyKey,
  type StoredResponse,
} from '@repo/core'
import { KeyKnownError, runClaimingKeyInWrite, runHoldingClaim, stopHoldingClaim } from '@repo/db'
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import fp from 'fastify-plugin'
import { z } from 'zod'
import { problem } from '../../lib/problem.ts'

const IDEMPOTENT_METHODS = new Set(['POST', 'PATCH', 'DELETE'])
/** Headers a replay repeats; others (dates, request ids, limits) belong to the new answer. */
const REPLAYED_HEADERS = ['content-type', 'etag', 'location']

export const idempotencyKeyHeader = z
  .string()
  .regex(/^[\x21-\x7e]{1,255}$/, 'must be 1 to 255 visible ASCII characters, e.g. a UUID')
  .optional()
  .describe(
    'Makes a retry safe: the same key and request replays the first successful answer; the same key with another request is 422; a duplicate sent while the first still runs is 409. Keys last IDEMPOTENCY_KEY_TTL_HOURS (24 h).',
  )

/** Who is asking. Callers without credentials are told apart by address, so two of them
 * choosing the same key never meet. */
function principal(request: FastifyRequest) {
  if (request.apiKey) return `api_key:${request.apiKey.id}`
  if (request.auth) return `user:${request.auth.userId}`
  return `anonymous:${request.ip}`
}

/** What a retry of a request whose answer held a secret gets instead of that answer. */
function secretShownOnce() {
  const body = problem(409, {
    type: 'urn:groundwork:problem:idempotent_secret_shown_once',
    title: 'Already done',
    detail:
      'The first request with this Idempotency-Key succeeded. Its answer held a secret, which is shown only once, so it is not repeated: read the resource to see the result, and create a new one if the secret was lost.',
  })
  return {
    status: 409,
    headers: { 'content-type': 'application/problem+json; charset=utf-8' },
    body: JSON.stringify(body),
  }
}

/** Routes that answer with a fresh credential opt out (`config.idempotency: false`). */
const applies = (
  method: string | string[],
  config: { idempotency?: boolean | 'in-write' } | undefined,
) => config?.idempotency !== false && [method].flat().some((m) => IDEMPOTENT_METHODS.has(m))

/** A stored answer, sent again: marked so the client can tell. */
const sendReplay = (reply: FastifyReply, { status, headers, body }: StoredResponse) =>
  reply.code(status).headers(headers).header('idempotent-replayed', 'true').send(body)

/** What a route that answers before it writes sends (`reply.sendWithWrite`, ADR 046). */
export interface AnswerBeforeWrite {
  status: number
  /** Lower-case names; content-type is set (JSON). */
  headers?: Record<string, string>
  /** Serialized with the route's response schema for `status`, before the write. */
  payload: unknown
}

/** A key whose claim waits for the request's write (`config.idempotency: 'in-write'`). */
interface DeferredKey {
  scope: IdempotencyScope
  requestHash: string
  lockMs: number
  ttlMs: number
}

/**
 * Idempotency-Key on every POST, PATCH and DELETE (PRODUCT.md, "Mutations accept
 * Idempotency-Key"), except routes that answer with a fresh credential (sign-in, sign-up,
 * MFA, OAuth, password change): a stored session token could be revoked, or the password
 * changed, before the replay; those routes are safe to repeat as they are. The header is added to each such route's schema (so it is validated
 * and documented); after access and validation the key is claimed, and a successful
 * answer is stored before it is sent, so a retry that sees no answer finds it.
 */
export default fp(
  async function idempotency(fastify: FastifyInstance) {
    fastify.decorateRequest('idempotencyClaim', null)
    fastify.decorateRequest('idempotencyDeferred', null)
    const lockMs = fastify.config.REQUEST_TIMEOUT_MS + 5_000
    const ttlMs = fastify.config.IDEMPOTENCY_KEY_TTL_HOURS * 3_600_000

    fastify.addHook('onRoute', (route) => {
      if (route.config?.idempotency === 'in-write' && route.config.answerHoldsSecret)
        // An answer stored with the write would be replayed, secret and all.
        throw new Error(
          `${route.url}: an 'in-write' route stores its answer, so it cannot answer with a secret shown once`,
        )
      if (!applies(route.method, route.config)) return
      route.schema ??= {}
      const schema = route.schema
      const headers = schema.headers as z.ZodObject | undefined
      schema.headers = (headers ?? z.object({}))
        .extend({ 'idempotency-key': idempotencyKeyHeader })
        .loose()
    })

    // Callback style: the rest of the request (later hooks, the handler) runs inside the
    // claim's context, so each transaction it commits through withTenant, withUser or
    // withNoContext marks the claim (runHoldingClaim); writes on the client are a lint error.
    fastify.addHook('preHandler', (request, reply, done) => {
      const key = request.headers['idempotency-key']
      if (typeof key !== 'string' || !applies(request.method, request.routeOptions.config))
        return done()
      const input: DeferredKey = {
        scope: {
          organizationId: request.tenant?.organizationId,
          principal: principal(request),
          route: `${request.method} ${request.routeOptions.url}`,
          key,
        },
        requestHash: hashIdempotentRequest(fastify.deps.secretsKey, [
          request.url,
          request.headers['if-match'] ?? null,
          request.body ?? null,
        ]),
        lockMs,
        ttlMs,
      }
      // The route claims the key with its one write, holding its answer (ADR 046).
      if (request.routeOptions.config.idempotency === 'in-write') {
        request.idempotencyDeferred = input
        return done()
      }
      claimIdempotencyKey(fastify.deps, input).then(
        (claim) => {
          if (claim.outcome === 'claimed') {
            request.idempotencyClaim = claim.claim
            runHoldingClaim(claim.claim, () => done())
            return
          }
          sendReplay(reply, claim.response)
        },
        (error: Error) => done(error),
      )
    })

    /**
     * For a route with `config.idempotency: 'in-write'`: serializes its answer, then runs
     * `write` (one writeWithTenant) and sends the answer once it committed. With an
     * Idempotency-Key, the write claims the key and stores the answer in its own
     * transaction: one round trip for key, change and answer. If the key has a row already
     * (a retry, a duplicate that committed first, an expired key), nothing was written and
     * the key is claimed as any route's is: the stored answer is replayed, 409 or 422 is
     * thrown, or a dead or expired claim is taken over and `write` runs again holding it.
     */
    fastify.decorateReply(
      'sendWithWrite',
      async function sendWithWrite(
        this: FastifyReply,
        answer: AnswerBeforeWrite,
        write: () => Promise<unknown>,
      ) {
        const request = this.request
        this.code(answer.status)
        const body = this.serialize(answer.payload) as string
        const headers: Record<string, string> = {}
        for (const [name, value] of Object.entries(answer.headers ?? {}))
          headers[name.toLowerCase()] = value
        headers['content-type'] = 'application/json; charset=utf-8'
        // Only once the write committed: a refused write's problem carries none of them.
        // Not awaited: the reply is a thenable that settles when the answer is flushed.
        const send = () => {
          this.headers(headers).send(body)
        }
        const deferred = request.idempotencyDeferred
        if (!deferred) {
          await write()
          return send()
        }
        request.idempotencyDeferred = null
        const replayed: Record<string, string> = {}
        for (const name of REPLAYED_HEADERS) {
          const value = headers[name]
          if (value !== undefined) replayed[name] = value
        }
        const key = keyWithAnswer(fastify.deps, deferred, {
          status: answer.status,
          headers: replayed,
          body,
        })
        try {
          await runClaimingKeyInWrite(key, write)
          return send()
        } catch (error) {
          if (!(error instanceof KeyKnownError)) throw error
          // A duplicate while the first request's write runs: answered at once (ADR 041).
          if (error.inProgress) throw idempotencyKeyInUse()
        }
        const claim = await claimIdempotencyKey(fastify.deps, deferred)
        if (claim.outcome === 'replay') {
          sendReplay(this, claim.response)
          return
        }
        request.idempotencyClaim = claim.claim
        await runHoldingClaim(claim.claim, write)
        return send()
      },
    )

    fastify.addHook('onSend', async (request, reply, payload) => {
      if (request.idempotencyDeferred && reply.statusCode < 300) {
        request.idempotencyDeferred = null
        // A route marked 'in-write' answered without reply.sendWithWrite: its key was
        // never claimed, so a retry would run it again. A bug in the route: say so loudly,
        // and outside production fail the request, so the route's own tests meet it.
        const message =
          "an 'in-write' route answered without reply.sendWithWrite: its Idempotency-Key was not claimed"
        request.log.error({ route: request.routeOptions.url }, message)
        if (fastify.config.NODE_ENV !== 'production') throw new Error(message)
      }
      const claim = request.idempotencyClaim
      if (!claim) return payload
      request.idempotencyClaim = null
      // The answer is decided: writes after this one (onResponse hooks) are not its effect.
      stopHoldingClaim()
      try {
        const body =
          typeof payload === 'string' ? payload : Buffer.isBuffer(payload) ? payload : undefined
        // Only whole answers are stored: a stream cannot be replayed, so its key is freed.
        const headers: Record<string, string> = {}
        for (const name of REPLAYED_HEADERS) {
          const value = reply.getHeader(name)
          if (value !== undefined) headers[name] = String(value)
        }
        const response = {
          status: reply.statusCode,
          headers,
          body: body?.toString('utf8') ?? '',
        }
        const succeeded = reply.statusCode >= 200 && reply.statusCode < 300
        if (succeeded && request.routeOptions.config.answerHoldsSecret) {
          // The answer holds a secret shown once: never stored, so never replayed. A retry
          // learns that the first request succeeded, and gets no second effect.
          await completeIdempotencyKey(fastify.deps, { claim, response: secretShownOnce() })
        } else if (succeeded && body !== undefined) {
          await completeIdempotencyKey(fastify.deps, { claim, response })
        } else {
          await releaseIdempotencyKey(fastify.deps, { claim, response })
        }
      } catch (err) {
        // The change is committed and its answer is on its way; only a retry's replay is
        // at risk. The claim expires after the request timeout; say so loudly.
        request.log.error({ err }, 'could not record the idempotent answer')
      }
      return payload
    })
  },
  { name: 'idempotency', dependencies: ['core', 'access'] },
)

declare module 'fastify' {
  interface FastifyRequest {
    /** Set while this request holds an Idempotency-Key claim. */
    idempotencyClaim: IdempotencyClaim | null
    /** Set until an 'in-write' route's write claims the request's key. */
    idempotencyDeferred: DeferredKey | null
  }
  interface FastifyReply {
    /** For 'in-write' routes: the answer, made before the write, sent once it committed. */
    sendWithWrite(answer: AnswerBeforeWrite, write: () => Promise<unknown>): Promise<void>
  }
  interface FastifyContextConfig {
    /**
     * false: this route answers with a fresh credential; its answers are never stored.
     * 'in-write': the route makes one write (writeWithTenant) and builds its answer before
     * it, sending it with `reply.sendWithWrite`; the key is claimed, and the answer stored,
     * in that write (ADR 046).
     */
    idempotency?: boolean | 'in-write'
    /**
     * The success answer holds a secret shown once (an API key, a signing secret, a TOTP
     * key): the key is claimed as usual (one effect), but a retry gets 409 instead of the
     * secret again.
     */
    answerHoldsSecret?: boolean
  }
}
