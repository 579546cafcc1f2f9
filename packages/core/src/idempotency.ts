import { createHash, createHmac } from 'node:crypto'
import { decryptSecret, encryptSecret } from '@repo/auth'
import { Prisma, type PrismaClient, withPresentedSecret } from '@repo/db'
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

const inProgress = () =>
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
  return withPresentedSecret(deps.db, scopeHash, async (tx) => {
    const { count } = await tx.idempotencyKey.createMany({
      data: {
        organizationId: input.scope.organizationId ?? null,
        scopeHash,
        requestHash: input.requestHash,
        lockedUntil,
        expiresAt,
      },
      skipDuplicates: true,
    })
    if (count === 1) return { outcome: 'claimed', claim: { scopeHash, lockedUntil } }

    const existing = await tx.idempotencyKey.findUnique({ where: { scopeHash } })
    if (!existing) throw inProgress() // purged between the two statements: rare; retry
    const takeOver = (where: Prisma.IdempotencyKeyWhereInput) =>
      tx.idempotencyKey.updateMany({
        where: { scopeHash, ...where },
        data: {
          requestHash: input.requestHash,
          lockedUntil,
          expiresAt,
          responseStatus: null,
          responseHeaders: Prisma.DbNull,
          responseBody: null,
          createdAt: new Date(now),
        },
      })
    // An expired key is a new key.
    if (existing.expiresAt.getTime() <= now) {
      const taken = await takeOver({ expiresAt: { lte: new Date(now) } })
      if (taken.count === 1) return { outcome: 'claimed', claim: { scopeHash, lockedUntil } }
      throw inProgress()
    }
    if (existing.requestHash !== input.requestHash) throw mismatch()
    if (existing.responseStatus === null || existing.responseBody === null) {
      if (existing.lockedUntil.getTime() > now) throw inProgress()
      // Its request died after committing its change: running it again would repeat it.
      if (existing.effectCommittedAt) throw answerLost()
      // effectCommittedAt in the condition too: the request may commit between our read
      // and this update, and its change must not run twice.
      const taken = await takeOver({
        responseStatus: null,
        effectCommittedAt: null,
        lockedUntil: { lte: new Date(now) },
      })
      if (taken.count === 1) return { outcome: 'claimed', claim: { scopeHash, lockedUntil } }
      throw inProgress()
    }
    return {
      outcome: 'replay',
      response: {
        status: existing.responseStatus,
        headers: (existing.responseHeaders ?? {}) as Record<string, string>,
        body: Buffer.from(decryptSecret(existing.responseBody, deps.secretsKey)).toString('utf8'),
      },
    }
  })
}

/**
 * Stores the answer of a claimed key (sealed), for retries to replay. Only while this
 * request still holds the claim: a request that outlived its lock, and was taken over,
 * must not overwrite or free the newer claim.
 */
export async function completeIdempotencyKey(
  deps: { db: PrismaClient; secretsKey: Buffer },
  input: { claim: IdempotencyClaim; response: StoredResponse },
) {
  const { scopeHash, lockedUntil } = input.claim
  await withPresentedSecret(deps.db, scopeHash, (tx) =>
    tx.idempotencyKey.updateMany({
      where: { scopeHash, lockedUntil, responseStatus: null },
      data: {
        responseStatus: input.response.status,
        responseHeaders: input.response.headers,
        responseBody: encryptSecret(Buffer.from(input.response.body, 'utf8'), deps.secretsKey),
      },
    }),
  )
}

/**
 * A claimed key whose request did not succeed: freed, so the same request may be sent
 * again, if the request changed nothing. If it did commit a change (and failed after),
 * its answer is stored instead, so a retry is told what happened rather than repeating it.
 */
export async function releaseIdempotencyKey(
  deps: { db: PrismaClient; secretsKey: Buffer },
  input: { claim: IdempotencyClaim; response: StoredResponse },
) {
  const { scopeHash, lockedUntil } = input.claim
  const { count } = await withPresentedSecret(deps.db, scopeHash, (tx) =>
    tx.idempotencyKey.deleteMany({
      where: { scopeHash, lockedUntil, responseStatus: null, effectCommittedAt: null },
    }),
  )
  if (count === 0) await completeIdempotencyKey(deps, input)
}

/** Deletes expired keys of every organization; returns how many (the scheduled cleanup). */
export async function purgeExpiredIdempotencyKeys(deps: { db: PrismaClient }) {
  // No tenant context: the database function is the one narrow path across tenants.
  const [row] = await deps.db.$queryRaw<
    [{ purged: number }]
  >`SELECT purge_expired_idempotency_keys() AS purged`
  return row?.purged ?? 0
}
