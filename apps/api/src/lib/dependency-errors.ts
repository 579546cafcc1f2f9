import { Prisma } from '@repo/db'

const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENOTFOUND',
  'EPIPE',
])

/**
 * True when an error means Postgres or Redis is unreachable or overloaded, not that the
 * request was wrong: the answer is then 503 with Retry-After, not 500.
 */
export function isDependencyDown(error: unknown): boolean {
  if (error instanceof Prisma.PrismaClientInitializationError) return true
  if (
    error instanceof Prisma.PrismaClientKnownRequestError &&
    ['P1001', 'P1002', 'P1008', 'P1017', 'P2024'].includes(error.code)
  ) {
    return true
  }
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
