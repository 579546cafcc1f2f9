import type { AccessChange } from '@repo/core'
import type { MembershipRole, Session, User } from '@repo/db'
import { LRUCache } from 'lru-cache'

export interface CachedSession {
  session: Session
  user: User
}

export interface CachedMembership {
  role: MembershipRole
  organizationDeleting: boolean
}

interface MembershipEntry extends CachedMembership {
  userId: string
  organizationId: string
}

/**
 * Sessions (with their user) and memberships an API instance read from Postgres, kept for
 * a few seconds so a burst of requests from one caller costs one lookup (ADR 035).
 *
 * Only what was found is kept: an unknown token or a non-member is asked of Postgres every
 * time (behind the per-address limit), so a new membership or session works at once.
 * A committed change to who may do what (AccessChange, announced on Redis by the process
 * that made it) drops every entry of those users and organizations. While this instance is
 * not subscribed to those announcements (Redis down, reconnecting), nothing is served from
 * memory and nothing is kept: it could miss one.
 */
export class AccessCache {
  readonly #ttlMs: number
  readonly #idleTimeoutMs: number
  readonly #sessions: LRUCache<string, CachedSession>
  readonly #memberships: LRUCache<string, MembershipEntry>
  /** Bumped by every change: a lookup that began before one must not store what it read. */
  #generation = 0
  #listening = false

  constructor(options: { ttlMs: number; maxEntries: number; idleTimeoutMs: number }) {
    this.#ttlMs = options.ttlMs
    this.#idleTimeoutMs = options.idleTimeoutMs
    this.#sessions = new LRUCache({ max: options.maxEntries, ttl: Math.max(1, options.ttlMs) })
    this.#memberships = new LRUCache({ max: options.maxEntries, ttl: Math.max(1, options.ttlMs) })
  }

  /** Serving from memory: turned on (a TTL above 0) and hearing every announcement. */
  get active(): boolean {
    return this.#ttlMs > 0 && this.#listening
  }

  /**
   * Subscribed to announcements, or not any more. Either way, everything kept so far is
   * dropped: announcements may have been missed while it was not.
   */
  setListening(listening: boolean): void {
    this.#listening = listening
    this.clear()
  }

  /** Take before reading Postgres; hand back to store what was read (see #generation). */
  generation(): number {
    return this.#generation
  }

  /**
   * The session for this token hash, unless it has expired, or is due its sliding
   * extension (which only the Postgres path writes), or the cache is not active.
   */
  session(tokenHash: string, now = Date.now()): CachedSession | undefined {
    if (!this.active) return undefined
    const found = this.#sessions.get(tokenHash)
    if (!found) return undefined
    const { expiresAt, absoluteExpiresAt } = found.session
    if (now >= absoluteExpiresAt.getTime() || expiresAt.getTime() - now < this.#idleTimeoutMs / 2) {
      this.#sessions.delete(tokenHash)
      return undefined
    }
    return found
  }

  storeSession(tokenHash: string, found: CachedSession, generation: number): void {
    if (!this.active || generation !== this.#generation) return
    this.#sessions.set(tokenHash, found)
  }

  membership(userId: string, organizationId: string): CachedMembership | undefined {
    if (!this.active) return undefined
    return this.#memberships.get(`${userId}:${organizationId}`)
  }

  storeMembership(
    userId: string,
    organizationId: string,
    membership: CachedMembership,
    generation: number,
  ): void {
    if (!this.active || generation !== this.#generation) return
    this.#memberships.set(`${userId}:${organizationId}`, {
      role: membership.role,
      organizationDeleting: membership.organizationDeleting,
      userId,
      organizationId,
    })
  }

  /** Drops every session and membership of these users, and every membership of these organizations. */
  forget(change: AccessChange): void {
    this.#generation++
    const users = new Set(change.userIds ?? [])
    const organizations = new Set(change.organizationIds ?? [])
    // Keys first, then deletes: the cache is not changed while it is being walked.
    const sessions: string[] = []
    if (users.size > 0)
      for (const [key, value] of this.#sessions.entries())
        if (users.has(value.user.id)) sessions.push(key)
    for (const key of sessions) this.#sessions.delete(key)
    const memberships: string[] = []
    for (const [key, value] of this.#memberships.entries())
      if (users.has(value.userId) || organizations.has(value.organizationId)) memberships.push(key)
    for (const key of memberships) this.#memberships.delete(key)
  }

  clear(): void {
    this.#generation++
    this.#sessions.clear()
    this.#memberships.clear()
  }

  get size(): { sessions: number; memberships: number } {
    return { sessions: this.#sessions.size, memberships: this.#memberships.size }
  }
}
