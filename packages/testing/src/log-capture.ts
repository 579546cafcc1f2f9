import { Writable } from 'node:stream'

/** A pino destination that keeps every line, for tests that read what a service logged. */
export function captureLogs() {
  const raw: string[] = []
  const destination = new Writable({
    write(chunk, _encoding, done) {
      raw.push(...chunk.toString().split('\n').filter(Boolean))
      done()
    },
  })
  return {
    destination,
    /** Every line so far, parsed. */
    lines: () => raw.map((line) => JSON.parse(line) as Record<string, unknown>),
    /** Everything written so far, as written. */
    text: () => raw.join('\n'),
  }
}

/**
 * Secrets and personal data a poisoned log record carries; none of them may appear in a
 * service's output. Distinctive so that a search of the output cannot match by accident.
 */
export const POISON = {
  password: 'pw-Poison-1f6c2',
  sessionToken: 'st-Poison-8a1e0',
  refreshToken: 'rt-Poison-0b77d',
  resetToken: 'reset-Poison-4c0fa',
  apiKey: 'ak-Poison-93d1b',
  totp: '482913',
  secret: 'sec-Poison-5e2aa',
  signingSecret: 'whsec_UG9pc29uUG9pc29uUG9pc29uUG9pc29u',
  cookie: 'ck-Poison-77c30',
  bearer: 'bearer-Poison-61a9f',
  email: 'poisoned.user@example.com',
  errorToken: 'err-Poison-2d9e4',
} as const

/** A record with every POISON value at several depths, next to harmless fields. */
export function poisonedRecord() {
  return {
    harmless: 'visible-field',
    password: POISON.password,
    user: {
      email: POISON.email,
      credentials: {
        refresh_token: POISON.refreshToken,
        nested: { resetToken: POISON.resetToken },
      },
    },
    headers: {
      authorization: `Bearer ${POISON.bearer}`,
      cookie: `session=${POISON.cookie}`,
      'x-api-key': POISON.apiKey,
    },
    mfa: { totpCode: POISON.totp },
    list: [{ deeper: { sessionToken: POISON.sessionToken, clientSecret: POISON.secret } }],
    endpoint: { webhookSigningSecret: POISON.signingSecret },
    note: `contact ${POISON.email} about it`,
    err: new Error(`refresh failed: token=${POISON.errorToken}`),
  }
}

/** The POISON values found in `text`: must be empty. */
export function poisonIn(text: string): string[] {
  return Object.values(POISON).filter((value) => text.includes(value))
}
