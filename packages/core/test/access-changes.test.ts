import { randomUUID } from 'node:crypto'
import {
  currentTotp,
  encryptSecret,
  generateSecret,
  githubProvider,
  hashPassword,
  hashSecret,
  newTotpSecret,
} from '@repo/auth'
import { createDatabaseClient, type MembershipRole, type PrismaClient } from '@repo/db'
import { type FakeOAuthProvider, startFakeOAuthProvider, useIsolatedServices } from '@repo/testing'
import { Redis } from 'ioredis'
import pg from 'pg'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import type { AccessChange } from '../src/access-changes.ts'
import { changePassword } from '../src/change-password.ts'
import type { CoreDeps } from '../src/context.ts'
import { deleteOrganization } from '../src/delete-organization.ts'
import { changeMemberRole, removeMember } from '../src/members.ts'
import { confirmTotp, disableMfa, stepUp } from '../src/mfa.ts'
import { finishOAuth, startOAuth } from '../src/oauth.ts'
import { resetPassword } from '../src/password-reset.ts'
import { revokeOtherSessions, revokeSession } from '../src/revoke-session.ts'
import { revokeUserSessions } from '../src/revoke-user-sessions.ts'
import { signOutUser } from '../src/sign-out-user.ts'
import { updateProfile } from '../src/update-profile.ts'
import { verifyEmail } from '../src/verify-email.ts'

// Every core function that changes who may do what announces it (ADR 035), after its
// transaction commits, naming exactly the users or organizations concerned: API instances
// drop their cached sessions and memberships on it. Each function runs against a real
// database; the recording AccessChanges reads, at publish time and on a separate owner
// connection, the state the change commits. Announced from inside the transaction, that
// read would still see the old state. A function that fails announces nothing.

const services = useIsolatedServices()
const PASSWORD = 'correct horse battery staple'
const SECRETS_KEY = Buffer.alloc(32, 9)

/** What was announced, and what the owner's connection saw committed at that moment. */
const announced: Array<{ change: AccessChange; committed: unknown }> = []
let observe: () => Promise<unknown> = async () => 'nothing observed'

let owner: pg.Pool
let app: PrismaClient
let redis: Redis
let provider: FakeOAuthProvider
let passwordHash: string
let deps: CoreDeps

beforeAll(async () => {
  const { database, redis: namespace } = services()
  owner = new pg.Pool({ connectionString: database.url, max: 2 })
  app = createDatabaseClient({
    DATABASE_URL: database.appUrl,
    DATABASE_POOL_MAX: 4,
    DATABASE_CONNECT_TIMEOUT_MS: 5_000,
    DATABASE_STATEMENT_TIMEOUT_MS: 10_000,
  })
  redis = new Redis(namespace.url, { maxRetriesPerRequest: 1 })
  provider = await startFakeOAuthProvider()
  passwordHash = await hashPassword(PASSWORD)
  deps = {
    db: app,
    sessionPolicy: { idleTimeoutMs: 3_600_000, absoluteLifetimeMs: 86_400_000 },
    redis,
    accessChanges: {
      async publish(change) {
        announced.push({ change, committed: await observe() })
      },
    },
    appUrl: 'https://app.example.com',
    oauthProviders: {
      github: githubProvider({
        clientId: provider.clientId,
        clientSecret: provider.clientSecret,
        redirectUri: 'https://app.example.com/auth/callback/github',
        authorizeUrl: `${provider.baseUrl}/authorize`,
        tokenUrl: `${provider.baseUrl}/token`,
        apiUrl: provider.baseUrl,
        timeoutMs: 5_000,
      }),
    },
    secretsKey: SECRETS_KEY,
    webhooks: { allowPrivateTargets: true, secretGraceMs: 3_600_000 },
    quotas: { projectsPerOrganization: 100, tasksPerProject: 100 },
    logger: { warn: () => {}, info: () => {} },
  }
})

afterAll(async () => {
  redis?.disconnect()
  await Promise.all([app?.$disconnect(), owner?.end(), provider?.close()])
})

beforeEach(() => {
  announced.length = 0
  observe = async () => 'nothing observed'
})

/** Reads `state` now (answered) and again, on the owner's connection, when a change is announced. */
async function watch(state: () => Promise<unknown>) {
  observe = state
  return state()
}

const sql = async <T = Record<string, unknown>>(text: string, values: unknown[] = []) =>
  (await owner.query(text, values)).rows as T[]

async function newUser(options: { password?: boolean; verified?: boolean } = {}) {
  const email = `user-${randomUUID()}@example.com`
  const [user] = await sql<{ id: string }>(
    `INSERT INTO users (id, email, name, password_hash, email_verified_at, updated_at)
     VALUES (gen_random_uuid(), $1, 'Someone', $2, CASE WHEN $3 THEN now() END, now())
     RETURNING id`,
    [email, options.password ? passwordHash : null, options.verified ?? true],
  )
  return { id: user?.id as string, email }
}

async function newSession(userId: string, options: { mfaVerified?: boolean } = {}) {
  const [session] = await sql<{ id: string }>(
    `INSERT INTO sessions (id, user_id, token_hash, expires_at, absolute_expires_at, mfa_verified_at)
     VALUES (gen_random_uuid(), $1, $2, now() + interval '1 hour', now() + interval '1 day',
       CASE WHEN $3 THEN now() END)
     RETURNING id`,
    [userId, hashSecret(generateSecret()), options.mfaVerified ?? false],
  )
  return session?.id as string
}

/** The user's session ids, sorted (compare with a sorted list). */
const sessionIds = async (userId: string) =>
  (
    await sql<{ id: string }>('SELECT id FROM sessions WHERE user_id = $1 ORDER BY id', [userId])
  ).map((row) => row.id)

/** A TOTP factor for the user; `confirmed` turns it on. */
async function newFactor(userId: string, confirmed: boolean) {
  const { key } = newTotpSecret('Groundwork', 'someone@example.com')
  await sql(
    `INSERT INTO mfa_factors (id, user_id, secret, confirmed_at)
     VALUES (gen_random_uuid(), $1, $2, CASE WHEN $3 THEN now() END)`,
    [userId, Buffer.from(encryptSecret(key, SECRETS_KEY)), confirmed],
  )
  return key
}

/** An organization with an owner, an admin and a member. */
async function newOrganization() {
  const [org] = await sql<{ id: string }>(
    `INSERT INTO organizations (id, name, updated_at) VALUES (gen_random_uuid(), 'Acme', now())
     RETURNING id`,
  )
  const organizationId = org?.id as string
  const as = async (role: MembershipRole) => {
    const user = await newUser()
    await sql(
      `INSERT INTO memberships (id, organization_id, user_id, role, updated_at)
       VALUES (gen_random_uuid(), $1, $2, $3::membership_role, now())`,
      [organizationId, user.id, role],
    )
    return { organizationId, userId: user.id, role }
  }
  return {
    organizationId,
    owner: await as('owner'),
    admin: await as('admin'),
    member: await as('member'),
  }
}

const roleOf = async (organizationId: string, userId: string) =>
  (
    await sql<{ role: string }>(
      'SELECT role FROM memberships WHERE organization_id = $1 AND user_id = $2',
      [organizationId, userId],
    )
  )[0]?.role ?? 'none'

describe('sessions', () => {
  it('revokeSession announces the user once the session is gone; another user’s session announces nothing', async () => {
    const user = await newUser()
    const [mine, kept] = [await newSession(user.id), await newSession(user.id)]
    expect(await watch(() => sessionIds(user.id))).toEqual([mine, kept].sort())
    await revokeSession(deps, { userId: user.id, sessionId: mine })
    expect(announced).toEqual([{ change: { userIds: [user.id] }, committed: [kept] }])

    announced.length = 0
    const other = await newUser()
    await expect(revokeSession(deps, { userId: other.id, sessionId: kept })).rejects.toMatchObject({
      status: 404,
    })
    expect(announced).toEqual([])
    expect(await sessionIds(user.id)).toEqual([kept])
  })

  it('revokeOtherSessions announces the user once only the current session is left', async () => {
    const user = await newUser()
    const sessions = [
      await newSession(user.id),
      await newSession(user.id),
      await newSession(user.id),
    ]
    const current = sessions[1] as string
    expect(await watch(() => sessionIds(user.id))).toEqual(sessions.sort())
    expect(await revokeOtherSessions(deps, { userId: user.id, currentSessionId: current })).toBe(2)
    expect(announced).toEqual([{ change: { userIds: [user.id] }, committed: [current] }])
  })

  it('revokeUserSessions (an operator) announces the user once every session is gone', async () => {
    const user = await newUser()
    const sessions = [await newSession(user.id), await newSession(user.id)]
    expect(await watch(() => sessionIds(user.id))).toEqual(sessions.sort())
    await revokeUserSessions(deps, { operator: 'on-call' }, { userId: user.id })
    expect(announced).toEqual([{ change: { userIds: [user.id] }, committed: [] }])
  })

  it('signOutUser announces the user once the session is gone', async () => {
    const user = await newUser()
    const [current, other] = [await newSession(user.id), await newSession(user.id)]
    expect(await watch(() => sessionIds(user.id))).toEqual([current, other].sort())
    await signOutUser(deps, { userId: user.id, sessionId: current })
    expect(announced).toEqual([{ change: { userIds: [user.id] }, committed: [other] }])
  })
})

describe('passwords', () => {
  it('changePassword announces the user once the old sessions are replaced; a wrong current password announces nothing', async () => {
    const user = await newUser({ password: true })
    const old = await newSession(user.id)
    expect(await watch(() => sessionIds(user.id))).toEqual([old])
    const change = { userId: user.id, newPassword: 'a different passphrase entirely' }
    await expect(
      changePassword(deps, { ...change, currentPassword: 'not the password at all' }),
    ).rejects.toMatchObject({ code: 'wrong_current_password' })
    expect(announced).toEqual([])

    const { session } = await changePassword(deps, { ...change, currentPassword: PASSWORD })
    expect(announced).toEqual([{ change: { userIds: [user.id] }, committed: [session.id] }])
  })

  it('resetPassword announces the user once the token is spent and the sessions are gone', async () => {
    const user = await newUser({ password: true })
    const session = await newSession(user.id)
    const token = generateSecret()
    await sql(
      `INSERT INTO password_resets (id, user_id, token_hash, expires_at)
       VALUES (gen_random_uuid(), $1, $2, now() + interval '1 hour')`,
      [user.id, hashSecret(token)],
    )
    const state = async () => ({
      sessions: await sessionIds(user.id),
      used: (
        await sql('SELECT 1 FROM password_resets WHERE user_id = $1 AND used_at IS NOT NULL', [
          user.id,
        ])
      ).length,
    })
    expect(await watch(state)).toEqual({ sessions: [session], used: 0 })
    await expect(
      resetPassword(deps, {
        token: generateSecret(),
        newPassword: 'a different passphrase entirely',
      }),
    ).rejects.toMatchObject({ code: 'invalid_token' })
    expect(announced).toEqual([])

    await resetPassword(deps, { token, newPassword: 'a different passphrase entirely' })
    expect(announced).toEqual([
      { change: { userIds: [user.id] }, committed: { sessions: [], used: 1 } },
    ])
  })
})

describe('second factor', () => {
  const factorState = (userId: string) => async () => ({
    factor:
      (
        await sql<{ confirmed: boolean }>(
          'SELECT confirmed_at IS NOT NULL AS confirmed FROM mfa_factors WHERE user_id = $1',
          [userId],
        )
      ).map((row) => (row.confirmed ? 'on' : 'pending'))[0] ?? 'none',
    sessions: await sessionIds(userId),
  })

  it('confirmTotp announces the user once MFA is on and the new session has replaced the old', async () => {
    const user = await newUser()
    const old = await newSession(user.id)
    const key = await newFactor(user.id, false)
    expect(await watch(factorState(user.id))).toEqual({ factor: 'pending', sessions: [old] })
    const { token } = await confirmTotp(deps, {
      userId: user.id,
      sessionId: old,
      code: currentTotp(key),
    })
    const [created] = await sql<{ id: string }>('SELECT id FROM sessions WHERE token_hash = $1', [
      hashSecret(token),
    ])
    expect(announced).toEqual([
      { change: { userIds: [user.id] }, committed: { factor: 'on', sessions: [created?.id] } },
    ])
  })

  it('disableMfa announces the user once the factor and the other sessions are gone; without a recent second factor, nothing', async () => {
    const user = await newUser()
    const current = await newSession(user.id, { mfaVerified: true })
    const other = await newSession(user.id)
    await newFactor(user.id, true)
    expect(await watch(factorState(user.id))).toEqual({
      factor: 'on',
      sessions: [current, other].sort(),
    })
    const stale = {
      id: current,
      mfaVerifiedAt: new Date(Date.now() - 3_600_000),
      createdAt: new Date(Date.now() - 3_600_000),
    }
    await expect(disableMfa(deps, { userId: user.id, session: stale })).rejects.toMatchObject({
      code: 'step_up_required',
    })
    expect(announced).toEqual([])

    const fresh = { ...stale, mfaVerifiedAt: new Date() }
    await disableMfa(deps, { userId: user.id, session: fresh })
    expect(announced).toEqual([
      { change: { userIds: [user.id] }, committed: { factor: 'none', sessions: [current] } },
    ])
  })

  it('stepUp announces the user once the session is marked stepped up; a wrong password announces nothing', async () => {
    const steppedUp = async (sessionId: string) =>
      (
        await sql('SELECT 1 FROM sessions WHERE id = $1 AND mfa_verified_at IS NOT NULL', [
          sessionId,
        ])
      ).length === 1
    const wrong = await newUser({ password: true })
    const wrongSession = await newSession(wrong.id)
    await expect(
      stepUp(deps, {
        userId: wrong.id,
        sessionId: wrongSession,
        password: 'not the password at all',
      }),
    ).rejects.toMatchObject({ code: 'invalid_mfa_code' })
    expect(announced).toEqual([])
    expect(await steppedUp(wrongSession)).toBe(false)

    const user = await newUser({ password: true })
    const session = await newSession(user.id)
    expect(await watch(() => steppedUp(session))).toBe(false)
    await stepUp(deps, { userId: user.id, sessionId: session, password: PASSWORD })
    expect(announced).toEqual([{ change: { userIds: [user.id] }, committed: true }])
  })
})

describe('account', () => {
  it('updateProfile announces the user once the new name is committed', async () => {
    const user = await newUser()
    const name = async () =>
      (await sql<{ name: string }>('SELECT name FROM users WHERE id = $1', [user.id]))[0]?.name
    expect(await watch(name)).toBe('Someone')
    await updateProfile(deps, { userId: user.id, name: 'Someone Else' })
    expect(announced).toEqual([{ change: { userIds: [user.id] }, committed: 'Someone Else' }])
  })

  it('verifyEmail announces the user once the address is verified; a link for an old address announces nothing', async () => {
    const user = await newUser({ verified: false })
    const link = async (email: string) => {
      const token = generateSecret()
      await sql(
        `INSERT INTO email_verifications (id, user_id, email, token_hash, expires_at)
         VALUES (gen_random_uuid(), $1, $2, $3, now() + interval '1 day')`,
        [user.id, email, hashSecret(token)],
      )
      return token
    }
    const verified = async () =>
      (await sql('SELECT 1 FROM users WHERE id = $1 AND email_verified_at IS NOT NULL', [user.id]))
        .length === 1
    expect(await watch(verified)).toBe(false)
    // Claimed, then refused in the same transaction: rolled back, nothing to announce.
    const stale = await link('previous@example.com')
    await expect(verifyEmail(deps, { token: stale })).rejects.toMatchObject({
      code: 'invalid_token',
    })
    expect(announced).toEqual([])

    await verifyEmail(deps, { token: await link(user.email) })
    expect(announced).toEqual([{ change: { userIds: [user.id] }, committed: true }])
  })

  describe('an OAuth callback', () => {
    let githubId = 1000
    async function signInWithGitHub(email: string) {
      provider.setUser({ id: String(++githubId), email, emailVerified: true, name: 'Someone' })
      const { authorizationUrl, binding } = await startOAuth(deps, { provider: 'github' })
      const { code, state } = await provider.authorize(authorizationUrl)
      return finishOAuth(deps, { provider: 'github', code, state, binding })
    }

    it('linking an unverified account announces the user once its password and sessions are gone', async () => {
      const user = await newUser({ password: true, verified: false })
      const squatted = await newSession(user.id)
      const state = async () => ({
        password:
          (await sql('SELECT 1 FROM users WHERE id = $1 AND password_hash IS NOT NULL', [user.id]))
            .length === 1,
        sessions: await sessionIds(user.id),
      })
      expect(await watch(state)).toEqual({ password: true, sessions: [squatted] })
      const result = await signInWithGitHub(user.email)
      expect(result).toMatchObject({ mfaRequired: false, signedUp: false })
      expect(announced).toEqual([
        { change: { userIds: [user.id] }, committed: { password: false, sessions: [] } },
      ])
    })

    it('signing up, or linking a verified account, announces nothing (no access was taken away)', async () => {
      const verified = await newUser({ password: true })
      await newSession(verified.id)
      expect(await signInWithGitHub(verified.email)).toMatchObject({ signedUp: false })
      expect(await signInWithGitHub(`new-${randomUUID()}@example.com`)).toMatchObject({
        signedUp: true,
      })
      expect(announced).toEqual([])
    })
  })
})

describe('memberships', () => {
  it('changeMemberRole announces the member once the new role is committed; a refused change announces nothing', async () => {
    const { organizationId, owner: theOwner, admin, member } = await newOrganization()
    await expect(
      changeMemberRole(deps, admin, { userId: member.userId, role: 'owner' }),
    ).rejects.toMatchObject({ status: 403 })
    await expect(
      changeMemberRole(deps, theOwner, { userId: theOwner.userId, role: 'admin' }),
    ).rejects.toMatchObject({ code: 'last_owner' })
    expect(announced).toEqual([])

    expect(await watch(() => roleOf(organizationId, member.userId))).toBe('member')
    await changeMemberRole(deps, admin, { userId: member.userId, role: 'admin' })
    expect(announced).toEqual([{ change: { userIds: [member.userId] }, committed: 'admin' }])
  })

  it('removeMember announces the member once the membership is gone; a refused removal announces nothing', async () => {
    const { organizationId, admin, member } = await newOrganization()
    await expect(removeMember(deps, member, { userId: admin.userId })).rejects.toMatchObject({
      status: 403,
    })
    expect(announced).toEqual([])

    expect(await watch(() => roleOf(organizationId, member.userId))).toBe('member')
    expect(await removeMember(deps, admin, { userId: member.userId })).toEqual({
      status: 'removed',
    })
    expect(announced).toEqual([{ change: { userIds: [member.userId] }, committed: 'none' }])
  })

  it('deleteOrganization announces the organization once its deletion is committed; an unknown one announces nothing', async () => {
    const { organizationId, owner: theOwner } = await newOrganization()
    await expect(
      deleteOrganization(deps, { organizationId: randomUUID(), userId: theOwner.userId }),
    ).rejects.toMatchObject({ status: 404 })
    expect(announced).toEqual([])

    const marked = async () =>
      (
        await sql(
          'SELECT 1 FROM organizations WHERE id = $1 AND deletion_requested_at IS NOT NULL',
          [organizationId],
        )
      ).length === 1
    expect(await watch(marked)).toBe(false)
    await deleteOrganization(deps, { organizationId, userId: theOwner.userId })
    expect(announced).toEqual([{ change: { organizationIds: [organizationId] }, committed: true }])
  })
})
