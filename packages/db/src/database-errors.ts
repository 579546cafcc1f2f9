import pg from 'pg'
import { Prisma } from './generated/prisma/client.ts'

/**
 * SQLSTATEs our own functions raise (class GW, which Postgres leaves free), for the
 * checks a write in one round trip makes in SQL (docs/decisions/045).
 */
export const SQLSTATE = {
  /** app_require_idempotency_effect: a retry took the request's claim over. */
  claimLost: 'GWC01',
  /** app_claim_idempotency_key_with_answer: the key has a row already. */
  keyKnown: 'GWK01',
  /** app_claim_idempotency_key_with_answer: another request's write is claiming the key. */
  keyInUse: 'GWK02',
  /** app_take_project_quota: one more project would pass the organization's quota. */
  projectQuotaReached: 'GWQ01',
} as const

/**
 * The Postgres SQLSTATE behind a failed statement, whichever way it was sent: Prisma's
 * error (the driver adapter's original code) or node-postgres's (writeWithTenant's, which
 * go around Prisma). Undefined for anything else (a connection that failed, a bug).
 */
export function databaseErrorState(error: unknown): string | undefined {
  if (error instanceof pg.DatabaseError) return error.code
  if (error instanceof Prisma.PrismaClientKnownRequestError) {
    const meta = error.meta as { driverAdapterError?: { cause?: { originalCode?: string } } }
    return meta?.driverAdapterError?.cause?.originalCode
  }
  return undefined
}
