import { AsyncLocalStorage } from 'node:async_hooks'
import type { Prisma, PrismaClient } from './generated/prisma/client.ts'

/** An Idempotency-Key claim held by the request this code runs for. */
export interface HeldClaim {
  scopeHash: string
  lockedUntil: Date
}

const heldClaim = new AsyncLocalStorage<HeldClaim>()

/** The request's Idempotency-Key claim was taken over by a retry; its change rolled back. */
export class ClaimLostError extends Error {
  override name = 'ClaimLostError'
  constructor() {
    super('the Idempotency-Key claim was taken over by a retry; this change was rolled back')
  }
}

/**
 * Runs `work` (the rest of a request) holding an Idempotency-Key claim: every tenant or
 * user transaction it commits also marks the claim "effect committed", atomically with
 * the change. A retry of a request that died after its commit then never runs it again.
 */
export function runHoldingClaim<T>(claim: HeldClaim, work: () => T): T {
  return heldClaim.run(claim, work)
}

/** A transaction whose queries run under one tenant (and user) context. */
export type TenantTransaction = Prisma.TransactionClient

/** Who is acting: the organization comes from the authenticated context, never a body. */
export interface TenantContext {
  organizationId: string
  /** The acting user, when a user (not an API key) is acting. */
  userId?: string | undefined
}

type Settings = { organizationId?: string; userId?: string; secretHash?: string }

/**
 * Runs `work` in one transaction with the row-level security context set by
 * transaction-local settings (set_config(..., true)): they vanish at commit or rollback,
 * so a pooled connection never carries one request's tenant into the next. One
 * transaction per unit of work, not per query (docs/decisions/006).
 */
async function withSettings<T>(
  db: PrismaClient,
  settings: Settings,
  work: (tx: TenantTransaction) => Promise<T>,
): Promise<T> {
  const claim = settings.secretHash === undefined ? heldClaim.getStore() : undefined
  return db.$transaction(async (tx) => {
    await tx.$executeRaw`SELECT
      set_config('app.organization_id', ${settings.organizationId ?? ''}, true),
      set_config('app.user_id', ${settings.userId ?? ''}, true),
      set_config('app.secret_hash', ${settings.secretHash ?? ''}, true)`
    const result = await work(tx)
    if (claim) {
      // Presenting the claim's scope hash makes its row (and only it) visible.
      await tx.$executeRaw`SELECT set_config('app.secret_hash', ${claim.scopeHash}, true)`
      const { count } = await tx.idempotencyKey.updateMany({
        where: { scopeHash: claim.scopeHash, lockedUntil: claim.lockedUntil },
        data: { effectCommittedAt: new Date() },
      })
      // The claim is no longer this request's: it outlived its lock and a retry took the
      // key over (and may be making the same change). Roll this one back: one effect.
      if (count !== 1) throw new ClaimLostError()
    }
    return result
  })
}

/** Tenant-owned data of one organization; rows of every other organization are invisible. */
export function withTenant<T>(
  db: PrismaClient,
  context: TenantContext,
  work: (tx: TenantTransaction) => Promise<T>,
): Promise<T> {
  return withSettings(
    db,
    {
      organizationId: context.organizationId,
      ...(context.userId ? { userId: context.userId } : {}),
    },
    work,
  )
}

/**
 * No organization yet, only a user: their own memberships and the organizations they
 * belong to are visible ("my organizations"), nothing else tenant-owned.
 */
export function withUser<T>(
  db: PrismaClient,
  userId: string,
  work: (tx: TenantTransaction) => Promise<T>,
): Promise<T> {
  return withSettings(db, { userId }, work)
}

/**
 * A caller presented a secret (invitation token, API key): the one row whose stored hash
 * equals `secretHash` becomes visible, so it can be resolved before any tenant is known.
 */
export function withPresentedSecret<T>(
  db: PrismaClient,
  secretHash: string,
  work: (tx: TenantTransaction) => Promise<T>,
): Promise<T> {
  return withSettings(db, { secretHash }, work)
}
