import { createCipheriv, createDecipheriv, randomBytes, timingSafeEqual } from 'node:crypto'
import { encodeBase32UpperCaseNoPadding } from '@oslojs/encoding'
import { createTOTPKeyURI, generateHOTP } from '@oslojs/otp'

const PERIOD_SECONDS = 30
const DIGITS = 6

/** A new TOTP secret (20 bytes, as RFC 4226 recommends) and what authenticator apps scan. */
export function newTotpSecret(issuer: string, accountName: string) {
  const key = new Uint8Array(randomBytes(20))
  return {
    key,
    base32: encodeBase32UpperCaseNoPadding(key),
    uri: createTOTPKeyURI(issuer, accountName, key, PERIOD_SECONDS, DIGITS),
  }
}

/**
 * The time step a code belongs to, checked against the previous, current and next step
 * (clock drift), or null. Callers refuse a step at or below the last one accepted, so a
 * code cannot be replayed.
 */
export function matchTotp(key: Uint8Array, code: string, now = Date.now()): bigint | null {
  if (!/^\d{6}$/.test(code)) return null
  const current = BigInt(Math.floor(now / 1000 / PERIOD_SECONDS))
  for (const step of [current - 1n, current, current + 1n]) {
    // Counters are unsigned: in the first step there is no previous one.
    if (step < 0n) continue
    const expected = Buffer.from(generateHOTP(key, step, DIGITS))
    if (timingSafeEqual(expected, Buffer.from(code))) return step
  }
  return null
}

/** The current code, for tests and tools (what an authenticator app would show). */
export function currentTotp(key: Uint8Array, now = Date.now()): string {
  return generateHOTP(key, BigInt(Math.floor(now / 1000 / PERIOD_SECONDS)), DIGITS)
}

/**
 * AES-256-GCM for secrets at rest (TOTP keys). Output: iv (12) | ciphertext | tag (16).
 * The key comes from config (MFA_ENCRYPTION_KEY, 32 bytes base64).
 */
export function encryptSecret(plaintext: Uint8Array, key: Buffer): Uint8Array<ArrayBuffer> {
  const iv = randomBytes(12)
  const cipher = createCipheriv('aes-256-gcm', key, iv)
  const body = Buffer.concat([cipher.update(plaintext), cipher.final()])
  return new Uint8Array(Buffer.concat([iv, body, cipher.getAuthTag()]))
}

export function decryptSecret(sealed: Uint8Array, key: Buffer): Uint8Array {
  const data = Buffer.from(sealed)
  const decipher = createDecipheriv('aes-256-gcm', key, data.subarray(0, 12))
  decipher.setAuthTag(data.subarray(data.length - 16))
  return new Uint8Array(
    Buffer.concat([decipher.update(data.subarray(12, data.length - 16)), decipher.final()]),
  )
}

/** Ten single-use recovery codes, formatted for humans (xxxxx-xxxxx). */
export function newRecoveryCodes(count = 10): string[] {
  return Array.from({ length: count }, () => {
    const raw = randomBytes(8).toString('hex').slice(0, 10)
    return `${raw.slice(0, 5)}-${raw.slice(5)}`
  })
}
