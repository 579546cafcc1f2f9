import { Prisma } from '@repo/db'
import { type Problem, problem } from './problem.ts'

/**
 * Database refusals that are the caller's doing, as the 4xx they are: a unique violation
 * is a conflict (409), a row that is not there is not found (404), a reference to
 * something that does not exist is unprocessable (422), a value too long for its column
 * is a bad request (400). Constraint and column names stay out of the answer.
 */
export function databaseProblem(error: unknown): Problem | undefined {
  if (!(error instanceof Prisma.PrismaClientKnownRequestError)) return undefined
  switch (error.code) {
    case 'P2002':
      return problem(409, {
        type: 'urn:groundwork:problem:conflict',
        detail: 'A record with these values already exists.',
      })
    case 'P2025':
    case 'P2001':
      return problem(404, {
        type: 'urn:groundwork:problem:not_found',
        detail: 'The record was not found.',
      })
    case 'P2003':
      return problem(422, {
        type: 'urn:groundwork:problem:invalid_reference',
        detail: 'The request refers to something that does not exist.',
      })
    case 'P2000':
      return problem(400, {
        type: 'urn:groundwork:problem:value_too_long',
        detail: 'A value is longer than allowed.',
      })
    default: {
      // A value Postgres refuses (SQLSTATE class 22: bad text encoding, a date out of
      // range, ...) is the caller's input; validation should catch it first, this is the net.
      if (error.code === 'P2007' || sqlState(error)?.startsWith('22')) {
        return problem(400, {
          type: 'urn:groundwork:problem:invalid_value',
          detail: 'A value is not valid.',
        })
      }
      return undefined
    }
  }
}

/** The Postgres SQLSTATE behind a Prisma error, when the driver adapter reported one. */
export function sqlState(error: Prisma.PrismaClientKnownRequestError): string | undefined {
  const meta = error.meta as { driverAdapterError?: { cause?: { originalCode?: string } } }
  return meta?.driverAdapterError?.cause?.originalCode
}
