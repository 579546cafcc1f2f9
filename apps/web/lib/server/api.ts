import 'server-only'
import { type ApiClient, createApiClient } from '@repo/api-client'
import { headers } from 'next/headers'
import { notFound, redirect } from 'next/navigation'
import { cache } from 'react'
import { loadWebEnv } from '../env.ts'
import { type Result, toUiProblem, UNAVAILABLE } from '../problem.ts'
import { safeReturnPath } from '../return-path.ts'
import { currentRequestId, requestLogger } from './request-id.ts'
import { readSessionToken } from './session.ts'
import { endUserAddress } from './trust-proxy.ts'

type Answer<T> = { data?: T; error?: unknown; response: Response }

// The API is a neighbour: a call that takes longer than this is a failure, shown as such.
const API_TIMEOUT_MS = 15_000

/** A client that calls the API on the end user's behalf: their address and browser. */
async function clientFor(token: string | undefined): Promise<ApiClient> {
  const incoming = await headers()
  return createApiClient({
    baseUrl: loadWebEnv().API_URL,
    ...(token ? { token } : {}),
    clientAddress: endUserAddress(incoming),
    userAgent: incoming.get('user-agent') ?? undefined,
    // Every call carries this request's id: the API logs it and passes it into jobs.
    requestId: await currentRequestId(),
    fetch: (input: RequestInfo | URL, init?: RequestInit) =>
      fetch(input, { ...init, signal: AbortSignal.timeout(API_TIMEOUT_MS) }),
  })
}

const elapsed = (since: number) => Math.round((performance.now() - since) * 10) / 10

/** fetch's own failures: refused or reset (TypeError), and the timeout's abort. */
function isNetworkFailure(error: unknown): boolean {
  if (error instanceof TypeError) return true
  return error instanceof DOMException && ['AbortError', 'TimeoutError'].includes(error.name)
}

async function settle<T>(call: Promise<Answer<T>>): Promise<Result<T>> {
  const started = performance.now()
  const log = await requestLogger()
  let answer: Answer<T>
  try {
    answer = await call
  } catch (error) {
    // Refused, reset or timed out: the API is down or slow, which the page shows as such.
    // Anything else is a bug here, not an outage, and must not pass for one.
    if (isNetworkFailure(error)) {
      log.warn({ err: error, durationMs: elapsed(started) }, 'API call failed')
      return { ok: false, problem: UNAVAILABLE }
    }
    throw error
  }
  const { response } = answer
  // The path without its query; 5xx are errors of ours, the rest are answers for the user.
  const line = {
    path: new URL(response.url).pathname,
    status: response.status,
    durationMs: elapsed(started),
  }
  if (response.status >= 500) log.error(line, 'API call answered with a server error')
  else log.debug(line, 'API call')
  if (response.ok) return { ok: true, data: answer.data as T }
  return {
    ok: false,
    problem: toUiProblem(response.status, answer.error, response.headers.get('retry-after')),
  }
}

/** An API call with no session: sign-up, sign-in, password reset, the email links. */
export async function callAnonymous<T>(
  request: (api: ApiClient) => Promise<Answer<T>>,
): Promise<Result<T>> {
  return settle(request(await clientFor(undefined)))
}

/** The path the user is on, which proxy.ts records for the sign-in return path. */
export async function currentPath(): Promise<string> {
  return safeReturnPath((await headers()).get('x-groundwork-path'))
}

/** Off to sign-in, coming back here afterwards. */
export async function redirectToSignIn(reason?: 'expired'): Promise<never> {
  const query = new URLSearchParams({ next: await currentPath() })
  if (reason) query.set('reason', reason)
  redirect(`/sign-in?${query}`)
}

/**
 * An API call as the signed-in user. No session, or one the API refuses (expired,
 * revoked, signed out elsewhere): to sign-in with a return path. Other problems come back
 * as a Result for the page or action to show.
 */
export async function callApi<T>(
  request: (api: ApiClient) => Promise<Answer<T>>,
  options: { whenSignedOut?: 'redirect' | 'answer' } = {},
): Promise<Result<T>> {
  const redirecting = options.whenSignedOut !== 'answer'
  const token = await readSessionToken()
  if (!token) {
    if (redirecting) return redirectToSignIn()
    return { ok: false, problem: toUiProblem(401, undefined, undefined) }
  }
  const result = await settle(request(await clientFor(token)))
  if (!result.ok && result.problem.status === 401 && redirecting) return redirectToSignIn('expired')
  return result
}

/**
 * For pages: the data, or the not-found page for a 404 (another organization's ids land
 * here too). Anything else is the error page: its text is generic, since Next never shows
 * a server error's message in the browser, and the digest it shows finds the log line.
 */
export async function load<T>(request: (api: ApiClient) => Promise<Answer<T>>): Promise<T> {
  const result = await callApi(request)
  if (result.ok) return result.data
  if (result.problem.status === 404) notFound()
  throw new Error(`API answered ${result.problem.status} ${result.problem.code}`)
}

/** The signed-in user, once per request however many components ask. */
export const currentUser = cache(() => load((api) => api.GET('/v1/auth/me')))

/** The signed-in user's organizations (the switcher on every page). */
export const myOrganizations = cache(() =>
  load((api) => api.GET('/v1/orgs', { params: { query: { limit: 100 } } })),
)

/** One organization the user belongs to (its layout and its pages share one call). */
export const organization = cache((orgId: string) =>
  load((api) => api.GET('/v1/orgs/{orgId}', { params: { path: { orgId } } })),
)

/** The signed-in user, or null for a visitor (pages that work both ways). */
export const signedInUser = cache(async () => {
  const result = await callApi((api) => api.GET('/v1/auth/me'), { whenSignedOut: 'answer' })
  return result.ok ? result.data : null
})

/** One project (its page's title and body share one call). */
export const getProject = cache((orgId: string, projectId: string) =>
  load((api) =>
    api.GET('/v1/orgs/{orgId}/projects/{projectId}', { params: { path: { orgId, projectId } } }),
  ),
)

/**
 * An organization's members (the member list, assignee choices, the audit log's "who"):
 * the API's largest page, 100.
 */
export const getMembers = cache((orgId: string) =>
  load((api) =>
    api.GET('/v1/orgs/{orgId}/members', { params: { path: { orgId }, query: { limit: 100 } } }),
  ),
)
