import {
  type PrismaClient,
  type Session,
  type TenantTransaction,
  type User,
  withNoContext,
} from '@repo/db'
import { generateSecret, hashSecret } from './secrets.ts'

/**
 * Sessions are written inside the caller's transaction (withUser, withNoContext), never on
 * the client: the write is then part of the request's one unit of work, and marks its
 * Idempotency-Key claim.
 */
type Sessions = TenantTransaction<'session'>

export interface SessionPolicy {
  /** A session unused this long expires (sliding window). */
  idleTimeoutMs: number
  /** No session lives longer than this, however active. */
  absoluteLifetimeMs: number
}

/** What a session opens: the API (`full`), or only the queue dashboard (by its cookie). */
export type SessionScope = 'full' | 'queue_dashboard'

export interface SessionMetadata {
  ipAddress?: string | undefined
  userAgent?: string | undefined
  mfaVerified?: boolean
  /** `full` unless given. */
  scope?: SessionScope
}

/** Creates a session and returns its token; only the token's hash is stored. */
export async function createSession(
  tx: Sessions,
  policy: SessionPolicy,
  userId: string,
  metadata: SessionMetadata = {},
): Promise<{ token: string; session: Session }> {
  const token = generateSecret()
  const now = Date.now()
  const session = await tx.session.create({
    data: {
      userId,
      tokenHash: hashSecret(token),
      expiresAt: new Date(now + Math.min(policy.idleTimeoutMs, policy.absoluteLifetimeMs)),
      absoluteExpiresAt: new Date(now + policy.absoluteLifetimeMs),
      ipAddress: metadata.ipAddress?.slice(0, 45) ?? null,
      userAgent: metadata.userAgent?.slice(0, 512) ?? null,
      mfaVerifiedAt: metadata.mfaVerified ? new Date(now) : null,
      scope: metadata.scope ?? 'full',
    },
  })
  return { token, session }
}

/**
 * The session and user a token belongs to, or null when the token is unknown, expired or
 * past its absolute lifetime (expired sessions are deleted). Extends the sliding expiry
 * when less than half of the idle window remains, so an active session is written to at
 * most once per half window, not on every request. Runs before any Idempotency-Key is
 * claimed (it decides who is asking), so its writes are never a request's effect.
 */
export async function validateSessionToken(
  db: PrismaClient,
  policy: SessionPolicy,
  token: string,
): Promise<{ session: Session; user: User } | null> {
  // Tokens are 43 base64url characters; anything else cannot match and skips the query.
  if (!/^[A-Za-z0-9_-]{43}$/.test(token)) return null
  const found = await db.session.findUnique({
    where: { tokenHash: hashSecret(token) },
    include: { user: true },
  })
  if (!found) return null
  const now = Date.now()
  if (now >= found.expiresAt.getTime() || now >= found.absoluteExpiresAt.getTime()) {
    await withNoContext(db, (tx) => tx.session.deleteMany({ where: { id: found.id } }))
    return null
  }
  const { user, ...session } = found
  if (found.expiresAt.getTime() - now < policy.idleTimeoutMs / 2) {
    const expiresAt = new Date(
      Math.min(now + policy.idleTimeoutMs, found.absoluteExpiresAt.getTime()),
    )
    await withNoContext(db, (tx) =>
      tx.session.update({
        where: { id: found.id },
        data: { expiresAt, lastUsedAt: new Date(now) },
      }),
    )
    session.expiresAt = expiresAt
  }
  return { session, user }
}

export async function invalidateSession(tx: Sessions, sessionId: string): Promise<void> {
  await tx.session.deleteMany({ where: { id: sessionId } })
}

/** Signs the user out everywhere (password change or reset, "revoke all"), optionally but one. */
export async function invalidateUserSessions(
  tx: Sessions,
  userId: string,
  keepSessionId?: string,
): Promise<number> {
  const { count } = await tx.session.deleteMany({
    where: { userId, ...(keepSessionId ? { id: { not: keepSessionId } } : {}) },
  })
  return count
}
