import type { PrismaClient } from '@repo/db'

/**
 * Deletes sessions, email verifications and password resets that can no longer be used
 * (the scheduled clean-up). They are account-owned, not tenant-owned, so no tenant
 * context is needed; each delete walks an `expires_at` index.
 */
export async function deleteExpiredCredentials(deps: { db: PrismaClient }, now = new Date()) {
  const [sessions, emailVerifications, passwordResets] = await Promise.all([
    deps.db.session.deleteMany({
      where: { OR: [{ expiresAt: { lt: now } }, { absoluteExpiresAt: { lt: now } }] },
    }),
    deps.db.emailVerification.deleteMany({ where: { expiresAt: { lt: now } } }),
    deps.db.passwordReset.deleteMany({ where: { expiresAt: { lt: now } } }),
  ])
  return {
    sessions: sessions.count,
    emailVerifications: emailVerifications.count,
    passwordResets: passwordResets.count,
  }
}
