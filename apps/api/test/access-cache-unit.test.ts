import type { Session, User } from '@repo/db'
import { describe, expect, it } from 'vitest'
import { AccessCache } from '../src/lib/access-cache.ts'

const HOUR = 3_600_000
const userA = '00000000-0000-4000-8000-00000000000a'
const userB = '00000000-0000-4000-8000-00000000000b'
const orgX = '00000000-0000-4000-8000-0000000000f1'
const orgY = '00000000-0000-4000-8000-0000000000f2'

function entry(userId: string, expiresInMs = 24 * HOUR) {
  const now = Date.now()
  return {
    session: {
      id: crypto.randomUUID(),
      userId,
      scope: 'full',
      expiresAt: new Date(now + expiresInMs),
      absoluteExpiresAt: new Date(now + 30 * 24 * HOUR),
    } as unknown as Session,
    user: { id: userId } as unknown as User,
  }
}

function listeningCache(ttlMs = 5_000) {
  const cache = new AccessCache({ ttlMs, maxEntries: 100, idleTimeoutMs: 24 * HOUR })
  cache.setListening(true)
  return cache
}

describe('AccessCache', () => {
  it('serves and keeps nothing until it listens for announcements, and forgets all when it stops', () => {
    const cache = new AccessCache({ ttlMs: 5_000, maxEntries: 100, idleTimeoutMs: 24 * HOUR })
    cache.storeSession('t', entry(userA), cache.generation())
    expect(cache.session('t')).toBeUndefined()
    cache.setListening(true)
    cache.storeSession('t', entry(userA), cache.generation())
    expect(cache.session('t')?.user.id).toBe(userA)
    cache.setListening(false)
    expect(cache.session('t')).toBeUndefined()
    cache.setListening(true)
    expect(cache.session('t')).toBeUndefined()
  })

  it('is off with a lifetime of 0', () => {
    const cache = listeningCache(0)
    cache.storeSession('t', entry(userA), cache.generation())
    expect(cache.active).toBe(false)
    expect(cache.session('t')).toBeUndefined()
  })

  it('does not keep what a lookup read if a change was announced while it ran', () => {
    const cache = listeningCache()
    const before = cache.generation()
    cache.forget({ userIds: [userB] })
    cache.storeSession('t', entry(userA), before)
    cache.storeMembership(userA, orgX, { role: 'admin', organizationDeleting: false }, before)
    expect(cache.session('t')).toBeUndefined()
    expect(cache.membership(userA, orgX)).toBeUndefined()
  })

  it("forgets a user's sessions and memberships, and an organization's memberships", () => {
    const cache = listeningCache()
    const g = cache.generation()
    cache.storeSession('a1', entry(userA), g)
    cache.storeSession('a2', entry(userA), g)
    cache.storeSession('b1', entry(userB), g)
    for (const user of [userA, userB])
      for (const org of [orgX, orgY])
        cache.storeMembership(user, org, { role: 'member', organizationDeleting: false }, g)
    cache.forget({ userIds: [userA] })
    expect(cache.session('a1')).toBeUndefined()
    expect(cache.session('a2')).toBeUndefined()
    expect(cache.session('b1')?.user.id).toBe(userB)
    expect(cache.membership(userA, orgX)).toBeUndefined()
    expect(cache.membership(userB, orgX)).toBeDefined()
    cache.forget({ organizationIds: [orgX] })
    expect(cache.membership(userB, orgX)).toBeUndefined()
    expect(cache.membership(userB, orgY)).toBeDefined()
  })

  it('sends a session due its sliding extension, or past its absolute end, back to Postgres', () => {
    const cache = listeningCache()
    cache.storeSession('due', entry(userA, 11 * HOUR), cache.generation())
    cache.storeSession('fresh', entry(userA, 13 * HOUR), cache.generation())
    expect(cache.session('due')).toBeUndefined()
    expect(cache.session('fresh')).toBeDefined()
    expect(cache.session('fresh', Date.now() + 31 * 24 * HOUR)).toBeUndefined()
  })

  it('holds at most maxEntries sessions', () => {
    const cache = new AccessCache({ ttlMs: 5_000, maxEntries: 3, idleTimeoutMs: 24 * HOUR })
    cache.setListening(true)
    for (let i = 0; i < 10; i++) cache.storeSession(`t${i}`, entry(userA), cache.generation())
    expect(cache.size.sessions).toBe(3)
  })
})
