import { databaseErrorState, Prisma } from '@repo/db'
import { type Problem, problem } from './problem.ts'

/**
 * Database refusals that are the caller's doing, as the 4xx they are: a unique violation
 * is a conflict (409), a row that is not there is not found (404), a reference to
 * something that does not exist is unprocessable (422), a value too long for its column
 * is a bad request (400). Constraint and column names stay out of the answer. Read from
 * Prisma's code, or from the SQLSTATE of a statement sent around Prisma (writeWithTenant).
 */
export function databaseProblem(error: unknown): Problem | undefined {
  const prisma = error instanceof Prisma.PrismaClientKnownRequestError
  const code = prisma ? error.code : undefined
  const state = databaseErrorState(error)
  // Constraint violations by SQLSTATE only for statements sent around Prisma: one in a
  // Prisma raw query ($queryRaw, P2010) is our SQL's doing, a 500 to report, as before.
  const driverState = prisma ? undefined : state
  if (code === 'P2002' || driverState === '23505')
    return problem(409, {
      type: 'urn:groundwork:problem:conflict',
      detail: 'A record with these values already exists.',
    })
  if (code === 'P2025' || code === 'P2001')
    return problem(404, {
      type: 'urn:groundwork:problem:not_found',
      detail: 'The record was not found.',
    })
  if (code === 'P2003' || driverState === '23503')
    return problem(422, {
      type: 'urn:groundwork:problem:invalid_reference',
      detail: 'The request refers to something that does not exist.',
    })
  if (code === 'P2000' || driverState === '22001')
    return problem(400, {
      type: 'urn:groundwork:problem:value_too_long',
      detail: 'A value is longer than allowed.',
    })
  // A value Postgres refuses (SQLSTATE class 22: bad text encoding, a date out of range,
  // ...) is the caller's input; validation should catch it first, this is the net.
  if (code === 'P2007' || state?.startsWith('22'))
    return problem(400, {
      type: 'urn:groundwork:problem:invalid_value',
      detail: 'A value is not valid.',
    })
  return undefined
}
