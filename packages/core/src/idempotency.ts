import { createHash, createHmac } from 'node:crypto'
import { decryptSecret, encryptSecret } from '@repo/auth'
import {
  type KeyWithAnswer,
  Prisma,
  type PrismaClient,
  queryStatement,
  withPresentedSecret,
} from '@repo/db'
import { AppError } from './app-error.ts'

/**
 * Idempotency keys (the IETF Idempotency-Key draft, as Stripe runs it): the first request
 * with a key claims it; its successful answer is stored, sealed, and replayed to every
 * retry with the same key and request. A retry with another request is 422; one that
 * arrives while the first still runs is 409. Failed answers release the key: a failed
 * request changed nothing (every write is one transaction), so it may be retried as is.
 */
export interface IdempotencyScope {
  /** The organization of the route, when it has one. */
  organizationId?: string | undefined
  /** Who is calling: `user:<id>`, `api_key:<id>` or `anonymous`. */
  principal: string
  /** Method and route pattern, e.g. `POST /v1/orgs/:orgId/projects`. */
  route: string
  key: string
}

export interface StoredResponse {
  status: number
  headers: Record<string, string>
  body: string
}

export type Claim =
  | { outcome: 'claimed'; claim: IdempotencyClaim }
  | { outcome: 'replay'; response: StoredResponse }

const sha256 = (value: string) => createHash('sha256').update(value).digest('hex')

export const hashIdempotencyScope = (scope: IdempotencyScope) =>
  sha256(JSON.stringify([scope.organizationId ?? null, scope.principal, scope.route, scope.key]))

/**
 * What makes two requests "the same": their URL, preconditions and (parsed) body. Keyed
 * (HMAC) with the server's secret: bodies can hold passwords, and a plain hash of one
 * could be guessed against offline by whoever holds a copy of the database.
 */
export const hashIdempotentRequest = (key: Buffer, parts: unknown[]) =>
  createHmac('sha256', key).update(JSON.stringify(parts)).digest('hex')

/** A claim held by one request: the row's scope and the moment this request took it. */
export interface IdempotencyClaim {
  scopeHash: string
  lockedUntil: Date
}

const mismatch = () =>
  new AppError({
    code: 'idempotency_key_reused',
    status: 422,
    userMessage:
      'This Idempotency-Key was already used for a different request. Use a new key for a new request.',
  })

const answerLost = () =>
  new AppError({
    code: 'idempotency_answer_lost',
    status: 409,
    userMessage:
      'The first request with this Idempotency-Key made its change, but its answer was lost. Read the resource to see the result; use a new key for a new request.',
  })

/** 409: a request with this key is still running (a duplicate sent meanwhile). */
export const idempotencyKeyInUse = () =>
  new AppError({
    code: 'idempotency_key_in_use',
    status: 409,
    userMessage:
      'A request with this Idempotency-Key is still being processed. Retry shortly to get its answer.',
    retryAfterSeconds: 1,
  })

/**
 * Claims `scope` for this request, or returns the stored answer to replay. Throws 409 or
 * 422 as described above. A claim older than `lockMs` (its request died) may be taken over.
 */
export async function claimIdempotencyKey(
  deps: { db: PrismaClient; secretsKey: Buffer },
  input: { scope: IdempotencyScope; requestHash: string; lockMs: number; ttlMs: number },
): Promise<Claim> {
  const scopeHash = hashIdempotencyScope(input.scope)
  const now = Date.now()
  const lockedUntil = new Date(now + input.lockMs)
  const expiresAt = new Date(now + input.ttlMs)
  // One statement, one round trip: the claim, or the row that holds the key (ADR 041).
  const [existing] = await queryStatement<KnownKey>(
    deps.db,
    Prisma.sql`SELECT * FROM app_claim_idempotency_key(
      ${scopeHash}, ${input.scope.organizationId ?? null}::uuid, ${input.requestHash},
      ${lockedUntil.toISOString()}::timestamptz, ${expiresAt.toISOString()}::timestamptz)`,
  )
  if (!existing) throw idempotencyKeyInUse() // purged between the insert and the read: rare; retry
  if (existing.claimed) return { outcome: 'claimed', claim: { scopeHash, lockedUntil } }

  // The key is known. What follows is the rare path (a retry, a duplicate, a dead claim).
  const takeOver = (where: Prisma.IdempotencyKeyWhereInput) =>
    withPresentedSecret(deps.db, scopeHash, (tx) =>
      tx.idempotencyKey.updateMany({
        where: { scopeHash, ...where },
        data: {
          requestHash: input.requestHash,
          lockedUntil,
          expiresAt,
          responseStatus: null,
          responseHeaders: Prisma.DbNull,
          responseBody: null,
          // A new claim: whatever the old one committed is no effect of this request
          // (an in-write key is always marked, ADR 046), so a failure can release it.
          effectCommittedAt: null,
          createdAt: new Date(now),
        },
      }),
    )
  // An expired key is a new key.
  if (existing.known_expires_at.getTime() <= now) {
    const taken = await takeOver({ expiresAt: { lte: new Date(now) } })
    if (taken.count === 1) return { outcome: 'claimed', claim: { scopeHash, lockedUntil } }
    throw idempotencyKeyInUse()
  }
  if (existing.known_request_hash !== input.requestHash) throw mismatch()
  if (existing.known_status === null || existing.known_body === null) {
    if (existing.known_locked_until.getTime() > now) throw idempotencyKeyInUse()
    // Its request died after committing its change: running it again would repeat it.
    if (existing.known_effect_committed_at) throw answerLost()
    // effectCommittedAt in the condition too: the request may commit between our read
    // and this update, and its change must not run twice.
    const taken = await takeOver({
      responseStatus: null,
      effectCommittedAt: null,
      lockedUntil: { lte: new Date(now) },
    })
    if (taken.count === 1) return { outcome: 'claimed', claim: { scopeHash, lockedUntil } }
    throw idempotencyKeyInUse()
  }
  return {
    outcome: 'replay',
    response: {
      status: existing.known_status,
      headers: (existing.known_headers ?? {}) as Record<string, string>,
      body: Buffer.from(decryptSecret(existing.known_body, deps.secretsKey)).toString('utf8'),
    },
  }
}

/** What app_claim_idempotency_key answers: the claim, or the row that holds the key. */
type KnownKey =
  | { claimed: true }
  | {
      claimed: false
      known_request_hash: string
      known_status: number | null
      known_headers: unknown
      known_body: Uint8Array | null
      known_locked_until: Date
      known_expires_at: Date
      known_effect_committed_at: Date | null
    }

/** An answer as the functions below take it: its body sealed with the server's key. */
function sealed(deps: { secretsKey: Buffer }, response: StoredResponse) {
  return {
    status: response.status,
    headers: JSON.stringify(response.headers),
    body: encryptSecret(Buffer.from(response.body, 'utf8'), deps.secretsKey),
  }
}

/**
 * A key to claim with the request's one write, holding the answer the request will send
 * (ADR 046): the scope's hash, the claim's times as `claimIdempotencyKey` sets them, and
 * the answer sealed. Nothing is sent here; `runClaimingKeyInWrite` (@repo/db) does that.
 */
export function keyWithAnswer(
  deps: { secretsKey: Buffer },
  input: { scope: IdempotencyScope; requestHash: string; lockMs: number; ttlMs: number },
  response: StoredResponse,
): KeyWithAnswer {
  const now = Date.now()
  const { status, headers, body } = sealed(deps, response)
  return {
    scopeHash: hashIdempotencyScope(input.scope),
    organizationId: input.scope.organizationId,
    requestHash: input.requestHash,
    lockedUntil: new Date(now + input.lockMs),
    expiresAt: new Date(now + input.ttlMs),
    status,
    headers,
    body,
  }
}

/**
 * Stores the answer of a claimed key (sealed), for retries to replay. Only while this
 * request still holds the claim: a request that outlived its lock, and was taken over,
 * must not overwrite or free the newer claim. One statement (ADR 041).
 */
export async function completeIdempotencyKey(
  deps: { db: PrismaClient; secretsKey: Buffer },
  input: { claim: IdempotencyClaim; response: StoredResponse },
) {
  const { scopeHash, lockedUntil } = input.claim
  const { status, headers, body } = sealed(deps, input.response)
  await queryStatement(
    deps.db,
    Prisma.sql`SELECT app_store_idempotency_answer(${scopeHash}, ${lockedUntil.toISOString()}::timestamptz,
      ${status}::integer, ${headers}::jsonb, ${body}::bytea)`,
  )
}

/**
 * A claimed key whose request did not succeed: freed, so the same request may be sent
 * again, if the request changed nothing. If it did commit a change (and failed after),
 * its answer is stored instead, so a retry is told what happened rather than repeating it.
 * One statement (ADR 041).
 */
export async function releaseIdempotencyKey(
  deps: { db: PrismaClient; secretsKey: Buffer },
  input: { claim: IdempotencyClaim; response: StoredResponse },
) {
  const { scopeHash, lockedUntil } = input.claim
  const { status, headers, body } = sealed(deps, input.response)
  await queryStatement(
    deps.db,
    Prisma.sql`SELECT app_release_idempotency_key(${scopeHash}, ${lockedUntil.toISOString()}::timestamptz,
      ${status}::integer, ${headers}::jsonb, ${body}::bytea)`,
  )
}

/** Deletes expired keys of every organization; returns how many (the scheduled cleanup). */
export async function purgeExpiredIdempotencyKeys(deps: { db: PrismaClient }) {
  // No tenant context: the database function is the one narrow path across tenants.
  const [row] = await deps.db.$queryRaw<
    [{ purged: number }]
  >`SELECT purge_expired_idempotency_keys() AS purged`
  return row?.purged ?? 0
}
