import { decodeBase32IgnorePadding } from '@oslojs/encoding'
import { currentTotp } from '@repo/auth'

/**
 * What an authenticator app shows for `secret` (the base32 key the MFA set-up page
 * displays) at `at`. The API refuses a time step it already accepted: a second sign-in
 * within 30 s takes the next step's code, `totp(secret, Date.now() + 30_000)`.
 */
export function totp(secret: string, at = Date.now()): string {
  return currentTotp(decodeBase32IgnorePadding(secret), at)
}
