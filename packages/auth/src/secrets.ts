import { createHash, randomBytes } from 'node:crypto'
import { decryptSecret, encryptSecret } from './totp.ts'

/**
 * A bearer secret from the OS CSPRNG: 32 bytes (256 bits), base64url. Session tokens,
 * verification and reset tokens, invitation tokens and API key secrets all use it.
 */
export function generateSecret(bytes = 32): string {
  return randomBytes(bytes).toString('base64url')
}

/**
 * What the database stores instead of a secret: its SHA-256, hex. A fast hash is right
 * here (unlike passwords): the input has 256 bits of entropy, so it cannot be guessed.
 */
export function hashSecret(secret: string): string {
  return createHash('sha256').update(secret).digest('hex')
}

/**
 * Text that must not sit readable where it waits (a link with a single-use token in a
 * queued job, a dead letter, the outbox): AES-256-GCM with the key of secrets at rest,
 * base64url. Opening it with another key, or after any change, throws.
 */
export function sealText(text: string, key: Buffer): string {
  return Buffer.from(encryptSecret(Buffer.from(text, 'utf8'), key)).toString('base64url')
}

export function openText(sealed: string, key: Buffer): string {
  return Buffer.from(decryptSecret(Buffer.from(sealed, 'base64url'), key)).toString('utf8')
}
