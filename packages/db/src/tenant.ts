import type { Prisma, PrismaClient } from './generated/prisma/client.ts'

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
  return db.$transaction(async (tx) => {
    await tx.$executeRaw`SELECT
      set_config('app.organization_id', ${settings.organizationId ?? ''}, true),
      set_config('app.user_id', ${settings.userId ?? ''}, true),
      set_config('app.secret_hash', ${settings.secretHash ?? ''}, true)`
    return work(tx)
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
