/**
 * Redaction of log records, whatever their shape: a walk over every key at every depth
 * (pino's `redact` paths only match fixed depths, ADR 031), plus a scrub of every string
 * for what a message or an error can carry (emails, bearer credentials, `token=...`).
 */

export const REDACTED = '[redacted]'
export const EMAIL_REDACTED = '[email]'

export interface RedactOptions {
  /** Keep email addresses (LOG_EMAILS=true); credentials are redacted regardless. */
  allowEmails?: boolean
}

/** Deeper than any record worth reading; a cycle or a huge object stops here. */
const MAX_DEPTH = 8
const MAX_KEYS = 200
const MAX_ITEMS = 100

/**
 * Whether a key names a credential, compared without case, dashes or underscores: so
 * `refresh_token`, `resetToken`, `x-api-key`, `Set-Cookie`, `webhookSigningSecret` and
 * `totpCode` all match, at any depth.
 */
export function isSensitiveKey(key: string): boolean {
  const k = key.toLowerCase().replace(/[^a-z0-9]/g, '')
  return (
    k.endsWith('token') ||
    k.endsWith('tokens') ||
    k.includes('password') ||
    k.includes('passwd') ||
    k.includes('passphrase') ||
    k.includes('secret') ||
    k.includes('apikey') ||
    k.includes('authorization') ||
    k.includes('cookie') ||
    k.includes('totp') ||
    k === 'otp' ||
    k.endsWith('otpcode') ||
    k.endsWith('mfacode') ||
    k.includes('recoverycode') ||
    k.endsWith('signature') ||
    k.includes('privatekey') ||
    k === 'credentials'
  )
}

/**
 * A `code` that is a credential: a TOTP or recovery code, an OAuth authorization code.
 * Error codes (`ECONNREFUSED`, `P2002`, `signup_paused`) are identifiers and stay, so a
 * log keeps saying what went wrong.
 */
export function isCredentialCode(key: string, value: unknown): boolean {
  return (
    typeof value === 'string' &&
    value !== '' &&
    key.toLowerCase() === 'code' &&
    !/^[A-Z][A-Z0-9_]*$/.test(value) &&
    !/^[a-z][a-z0-9_]*$/.test(value)
  )
}

const EMAIL = /[\w.%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}/g
/** Single-use values in a URL's query: OAuth's `code` and `state`, a dashboard `ticket`. */
const QUERY_CREDENTIAL = /([?&](?:code|state|ticket)=)[^&\s#"']+/gi
/** `Bearer <credential>`, `Basic <credential>` in a message or a header value. */
const AUTH_SCHEME = /\b(Bearer|Basic)\s+[\w.~+/=-]+/gi
/** `token=...`, `apiKey: ...`, `password="..."` written into free text. */
const KEY_VALUE =
  /\b([\w-]*(?:token|secret|password|passwd|api[_-]?key|authorization|cookie|signature|totp|otp))(\s*[:=]\s*)(["']?)[^\s"'&,;)]+/gi
/** The password of a connection URL (postgres://user:password@host). */
const URL_PASSWORD = /\b([a-z][a-z0-9+.-]*:\/\/[^\s:@/]+):[^\s@/]+@/gi
/** Credentials recognisable by their shape: JWTs and Standard Webhooks secrets. */
const SHAPED_SECRET = /\b(?:eyJ[\w-]{8,}\.[\w-]{8,}\.[\w-]+|whsec_[A-Za-z0-9+/=]{16,})/g
/** A cheap check before the regular expressions: most log strings hold none of these. */
const MAYBE = /[@=:]|bearer|basic|eyJ|whsec_/i

export function scrubString(value: string, options: RedactOptions = {}): string {
  if (value.length < 6 || !MAYBE.test(value)) return value
  let out = value
    .replace(URL_PASSWORD, `$1:${REDACTED}@`)
    .replace(AUTH_SCHEME, `$1 ${REDACTED}`)
    .replace(KEY_VALUE, `$1$2$3${REDACTED}`)
    .replace(QUERY_CREDENTIAL, `$1${REDACTED}`)
    .replace(SHAPED_SECRET, REDACTED)
  if (!options.allowEmails && out.includes('@')) out = out.replace(EMAIL, EMAIL_REDACTED)
  return out
}

/** An Error as a plain object (what pino's err serializer keeps), before it is redacted. */
function errorObject(error: Error): Record<string, unknown> {
  const out: Record<string, unknown> = {
    type: error.name || error.constructor?.name || 'Error',
    message: error.message,
    stack: error.stack,
  }
  for (const [key, value] of Object.entries(error)) if (!(key in out)) out[key] = value
  if (error.cause !== undefined) out.cause = error.cause
  if (error instanceof AggregateError) out.errors = error.errors
  return out
}

/** A redacted copy of `value`: the input is never changed (it may be the caller's object). */
export function redactValue(value: unknown, options: RedactOptions = {}): unknown {
  const seen = new WeakSet<object>()
  const walk = (node: unknown, depth: number): unknown => {
    if (typeof node === 'string') return scrubString(node, options)
    if (node === null || typeof node !== 'object') return node
    if (seen.has(node)) return '[circular]'
    if (depth >= MAX_DEPTH) return '[too deep]'
    // Bytes may be a key or a secret (webhook secrets are Uint8Arrays): never printed.
    if (ArrayBuffer.isView(node) || node instanceof ArrayBuffer) return '[binary]'
    if (node instanceof Date) return node
    seen.add(node)
    try {
      if (Array.isArray(node)) return node.slice(0, MAX_ITEMS).map((item) => walk(item, depth + 1))
      if (node instanceof Map) return walk(Object.fromEntries(node), depth)
      if (node instanceof Set) return walk([...node], depth)
      const source =
        node instanceof Error
          ? errorObject(node)
          : typeof (node as { toJSON?: unknown }).toJSON === 'function'
            ? (node as { toJSON(): unknown }).toJSON()
            : node
      if (source !== node) return walk(source, depth)
      const out: Record<string, unknown> = {}
      let count = 0
      for (const key in source as Record<string, unknown>) {
        if (!Object.hasOwn(source, key)) continue
        if (++count > MAX_KEYS) break
        const child = (source as Record<string, unknown>)[key]
        out[key] =
          (isSensitiveKey(key) && child !== undefined && child !== null && child !== '') ||
          isCredentialCode(key, child)
            ? REDACTED
            : walk(child, depth + 1)
      }
      return out
    } finally {
      seen.delete(node)
    }
  }
  return walk(value, 0)
}
