/**
 * A caller's request id is accepted only if it is short and plain (letters, digits and
 * `_ . : -`, at most 128): it is echoed in a response header, written into every log line
 * and sent on to the API, jobs and webhook receivers, so a newline, a quote or a
 * kilobyte of anything is replaced by a fresh id, never echoed.
 */
const REQUEST_ID = /^[\w.:-]{1,128}$/

export const REQUEST_ID_HEADER = 'x-request-id'

export function isValidRequestId(value: unknown): value is string {
  return typeof value === 'string' && REQUEST_ID.test(value)
}

/** The caller's id when it is acceptable, otherwise a new one. */
export function acceptRequestId(incoming: unknown): string {
  return isValidRequestId(incoming) ? incoming : crypto.randomUUID()
}
