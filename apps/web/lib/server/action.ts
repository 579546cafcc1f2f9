import 'server-only'
import { headers } from 'next/headers'
import type { z } from 'zod'
import type { Result, UiProblem } from '../problem.ts'
import { isSameOrigin } from './origin.ts'
import { requestLogger } from './request-id.ts'

/** What every Server Action answers: its data, or a problem the form shows. */
export type ActionResult<T = null> = Result<T>

const FOREIGN: UiProblem = {
  status: 403,
  code: 'cross_site_request',
  message: 'This request did not come from this site, so it was refused.',
  fieldErrors: {},
}

function invalid(error: z.ZodError): UiProblem {
  const fieldErrors: Record<string, string> = {}
  for (const issue of error.issues) fieldErrors[issue.path.join('.') || 'form'] ??= issue.message
  return { status: 400, code: 'validation', message: 'Check the highlighted fields.', fieldErrors }
}

function fromFormData(data: FormData): Record<string, unknown> {
  const values: Record<string, unknown> = {}
  for (const [key, value] of data) if (!key.startsWith('$ACTION')) values[key] = value
  return values
}

/**
 * The one way to write a Server Action here. Before the handler runs, the request must
 * come from this site (same `Origin`, and `Sec-Fetch-Site` same-origin when sent), and
 * the input must pass the same zod schema the API and the form use; either failure is an
 * answer for the form, never an exception. The handler may `redirect()`.
 */
export function defineAction<Schema extends z.ZodType, T>(
  schema: Schema,
  handler: (input: z.output<Schema>) => Promise<ActionResult<T>>,
): (input: z.input<Schema> | FormData) => Promise<ActionResult<T>> {
  return async (input) => {
    const incoming = await headers()
    if (!isSameOrigin(incoming)) {
      // A security event, not a user's mistake: someone's page posted to our action.
      ;(await requestLogger()).warn(
        { origin: incoming.get('origin'), fetchSite: incoming.get('sec-fetch-site') },
        'server action refused: cross-site request',
      )
      return { ok: false, problem: FOREIGN }
    }
    const parsed = schema.safeParse(input instanceof FormData ? fromFormData(input) : input)
    if (!parsed.success) return { ok: false, problem: invalid(parsed.error) }
    return handler(parsed.data)
  }
}
