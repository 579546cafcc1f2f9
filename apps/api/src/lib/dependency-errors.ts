import { databaseErrorState, Prisma } from '@repo/db'

const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENOTFOUND',
  'EPIPE',
])

/**
 * Postgres errors that mean "too slow or too busy right now": a statement past
 * statement_timeout (57014), a lock not granted in time (55P03), too many connections
 * (53300), the server shutting down (57P01-57P03).
 */
const BUSY_SQLSTATES = new Set(['57014', '55P03', '53300', '57P01', '57P02', '57P03'])

/**
 * True when an error means Postgres or Redis is unreachable, overloaded or too slow, not
 * that the request was wrong: the answer is then 503 with Retry-After, not 500.
 */
export function isDependencyDown(error: unknown): boolean {
  if (error instanceof Prisma.PrismaClientInitializationError) return true
  if (error instanceof Prisma.PrismaClientKnownRequestError) {
    // P2024/P2028: no connection or transaction to be had in time (pool exhausted).
    if (['P1001', 'P1002', 'P1008', 'P1017', 'P2024', 'P2028'].includes(error.code)) return true
  }
  // Prisma's, or node-postgres's for a statement sent around Prisma (writeWithTenant).
  const state = databaseErrorState(error)
  if (state && BUSY_SQLSTATES.has(state)) return true
  for (let current: unknown = error, depth = 0; current && depth < 5; depth++) {
    const { code, name, message } = current as { code?: unknown; name?: unknown; message?: unknown }
    if (typeof code === 'string' && NETWORK_CODES.has(code)) return true
    if (name === 'MaxRetriesPerRequestError') return true
    if (
      typeof message === 'string' &&
      /Connection is closed|Stream isn't writeable|Command timed out|ECONNREFUSED|Connection terminated|timeout exceeded when trying to connect/i.test(
        message,
      )
    ) {
      return true
    }
    current = (current as { cause?: unknown }).cause
  }
  return false
}
