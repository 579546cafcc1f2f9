import { describe, expect, it } from 'vitest'
import { toUiProblem } from '../lib/problem.ts'

describe('toUiProblem', () => {
  it('puts the API field errors under the form field names', () => {
    const problem = toUiProblem(
      400,
      {
        type: 'urn:groundwork:problem:validation',
        detail: 'The body is not valid.',
        errors: [
          { field: 'body.email', message: 'must be an email address' },
          { field: 'body.email', message: 'a second message is not shown' },
          { field: 'body.name', message: 'is required' },
        ],
      },
      null,
    )
    expect(problem).toMatchObject({
      status: 400,
      code: 'validation',
      fieldErrors: { email: 'must be an email address', name: 'is required' },
    })
  })

  it('says how long to wait after a 429', () => {
    const problem = toUiProblem(429, { detail: 'Too many sign-in attempts.' }, '42')
    expect(problem.retryAfterSeconds).toBe(42)
    expect(problem.message).toBe('Too many sign-in attempts. Try again in 42 seconds.')
    expect(toUiProblem(429, {}, '600').message).toContain('10 minutes')
  })

  it("shows a maintenance window's message, the one 5xx written for people", () => {
    const message = 'Upgrading the database: changes are paused until 14:00 UTC.'
    const problem = toUiProblem(
      503,
      { type: 'urn:groundwork:problem:maintenance', status: 503, detail: message },
      '900',
    )
    expect(problem).toMatchObject({ status: 503, code: 'maintenance', message })
    expect(problem.retryAfterSeconds).toBe(900)
    // Any other 503 keeps the generic words (its detail may be internal).
    expect(
      toUiProblem(503, { type: 'urn:groundwork:problem:unavailable', detail: message }, '5')
        .message,
    ).not.toBe(message)
  })

  it('never shows a 5xx detail, and survives a body that is not a problem', () => {
    const problem = toUiProblem(500, { detail: 'relation "users" does not exist' }, null)
    expect(problem.message).not.toContain('relation')
    expect(toUiProblem(502, 'Bad Gateway', undefined).code).toBe('502')
  })
})
