/**
 * An API error as the pages show it: a sentence for the form, messages keyed by the
 * form's field names, and how long to wait when rate-limited. Shared by the server (which
 * builds it from problem+json) and client components (which render it).
 */
export interface UiProblem {
  status: number
  /** The problem type's last segment (`invalid_credentials`), for pages that branch on it. */
  code: string
  message: string
  fieldErrors: Record<string, string>
  retryAfterSeconds?: number
}

export type Result<T> = { ok: true; data: T } | { ok: false; problem: UiProblem }

const PROBLEM_PREFIX = 'urn:groundwork:problem:'

interface ProblemBody {
  type?: string
  title?: string
  detail?: string
  errors?: { field: string; message: string }[]
}

/** The API's words are for developers where they name its routes; a person reads these. */
const PLAIN_WORDS: Record<string, string> = {
  step_up_required: 'Confirm it is you to continue.',
  version_mismatch: 'Someone else changed this after you opened it.',
}

/**
 * Problems whose detail is written for people whatever the status: the operator's message
 * of a maintenance window (503) says what is happening and until when.
 */
const SAYS_ITSELF = new Set(['maintenance'])

/** Words for statuses whose API detail is missing or written for machines. */
function fallbackMessage(status: number): string {
  if (status === 404) return 'That was not found, or you do not have access to it.'
  if (status === 403) return 'Your role does not allow this.'
  if (status === 429) return 'Too many attempts.'
  if (status >= 500) return 'Something went wrong on our side. Try again in a moment.'
  return 'That did not work.'
}

export function toUiProblem(
  status: number,
  body: unknown,
  retryAfter: string | null | undefined,
): UiProblem {
  const problem = (typeof body === 'object' && body !== null ? body : {}) as ProblemBody
  const fieldErrors: Record<string, string> = {}
  for (const issue of problem.errors ?? []) {
    // `body.email` names the form's `email`; the first message per field is enough.
    const field = issue.field.replace(/^(body|querystring|params)\./, '')
    fieldErrors[field] ??= issue.message
  }
  const seconds = retryAfter ? Number.parseInt(retryAfter, 10) : Number.NaN
  const code = problem.type?.startsWith(PROBLEM_PREFIX)
    ? problem.type.slice(PROBLEM_PREFIX.length)
    : String(status)
  const wait = Number.isFinite(seconds) ? seconds : undefined
  const readable = status < 500 || SAYS_ITSELF.has(code)
  let message =
    PLAIN_WORDS[code] ?? (readable && problem.detail ? problem.detail : fallbackMessage(status))
  if (status === 429 && wait !== undefined) message = `${message} ${waitPhrase(wait)}`
  return {
    status,
    code,
    message,
    fieldErrors,
    ...(wait !== undefined ? { retryAfterSeconds: wait } : {}),
  }
}

function waitPhrase(seconds: number): string {
  if (seconds <= 1) return 'Try again in a second.'
  if (seconds < 90) return `Try again in ${seconds} seconds.`
  return `Try again in ${Math.ceil(seconds / 60)} minutes.`
}

/**
 * Runs a Server Action from the browser. A call that never got an answer (the network
 * dropped, the server failed, a new deploy no longer knows the action) becomes a problem
 * the form shows, instead of a rejected promise nobody sees.
 */
export async function runAction<T>(run: () => Promise<T>): Promise<T | Result<never>> {
  try {
    return await run()
  } catch (error) {
    // Next's redirect travels as a rejection when a caller awaits it: let it through.
    if (error instanceof Error && 'digest' in error && String(error.digest).startsWith('NEXT_'))
      throw error
    return {
      ok: false,
      problem: {
        status: 0,
        code: 'no_answer',
        message: 'That did not reach the server. Check your connection and try again.',
        fieldErrors: {},
      },
    }
  }
}

/** The API could not be reached at all: the page says so instead of failing. */
export const UNAVAILABLE: UiProblem = {
  status: 503,
  code: 'unavailable',
  message: 'The service is unavailable right now. Try again in a moment.',
  fieldErrors: {},
}
