import { createHash, randomBytes } from 'node:crypto'

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
