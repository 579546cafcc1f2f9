import { type PrismaClient, withNoContext } from '@repo/db'

/**
 * Deletes sessions, email verifications and password resets that can no longer be used
 * (the scheduled clean-up). They are account-owned, not tenant-owned, so no tenant
 * context is needed; each delete walks an `expires_at` index. A maintenance job holds no
 * Idempotency-Key claim, so withNoContext marks nothing here; it is used because it is the
 * one way to write (docs/decisions/019), and each table is its own short transaction.
 */
export async function deleteExpiredCredentials(deps: { db: PrismaClient }, now = new Date()) {
  const [sessions, emailVerifications, passwordResets] = await Promise.all([
    withNoContext(deps.db, (tx) =>
      tx.session.deleteMany({
        where: { OR: [{ expiresAt: { lt: now } }, { absoluteExpiresAt: { lt: now } }] },
      }),
    ),
    withNoContext(deps.db, (tx) =>
      tx.emailVerification.deleteMany({ where: { expiresAt: { lt: now } } }),
    ),
    withNoContext(deps.db, (tx) =>
      tx.passwordReset.deleteMany({ where: { expiresAt: { lt: now } } }),
    ),
  ])
  return {
    sessions: sessions.count,
    emailVerifications: emailVerifications.count,
    passwordResets: passwordResets.count,
  }
}
