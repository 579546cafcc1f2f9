import { decodeBase32IgnorePadding } from '@oslojs/encoding'
import { currentTotp, generateSecret, hashSecret } from '@repo/auth'
import { claimIdempotencyKey, revokeSession } from '@repo/core'
import { ClaimLostError, runHoldingClaim } from '@repo/db'
import type { InjectOptions } from 'fastify'
import { describe, expect, it } from 'vitest'
import { useApiServer } from './helpers.ts'

// One way to write (docs/decisions/019): every write a keyed request makes goes through
// withTenant, withUser or withNoContext, so it marks the request's Idempotency-Key claim
// in the same transaction. Here, for the account flows that used to write on the client:
// each marks its claim, a retry after a crash is not run again, and a request whose claim
// was taken over cannot commit.
const { server, sql } = useApiServer()
const password = 'correct horse battery staple'
const bearer = (token: string) => ({ authorization: `Bearer ${token}` })

let n = 0
async function signUp() {
  const email = `effects${++n}@example.com`
  const res = await server.inject({
    method: 'POST',
    url: '/v1/auth/sign-up',
    payload: { email, password, name: 'Eff' },
  })
  expect(res.statusCode).toBe(201)
  return { email, token: res.json().token as string, userId: res.json().user.id as string }
}

const signIn = async (email: string) =>
  (
    await server.inject({ method: 'POST', url: '/v1/auth/sign-in', payload: { email, password } })
  ).json().token as string

async function verifiedUser() {
  const user = await signUp()
  await sql('UPDATE users SET email_verified_at = now() WHERE id = $1', [user.userId])
  return user
}

/** A verified user with TOTP on; `token` is the MFA-verified session confirming it gave. */
async function userWithMfa() {
  const user = await verifiedUser()
  const setup = await server.inject({
    method: 'POST',
    url: '/v1/auth/mfa/totp/setup',
    headers: bearer(user.token),
  })
  const key = decodeBase32IgnorePadding(setup.json().secret)
  const confirm = await server.inject({
    method: 'POST',
    url: '/v1/auth/mfa/totp/confirm',
    headers: bearer(user.token),
    payload: { code: currentTotp(key, Date.now()) },
  })
  expect(confirm.statusCode).toBe(200)
  return { ...user, token: confirm.json().token as string }
}

/** Another session of the same user, by id (what the sessions list shows). */
async function secondSession(email: string, userId: string) {
  await signIn(email)
  const [row] = (await sql(
    'SELECT id FROM sessions WHERE user_id = $1 ORDER BY created_at DESC LIMIT 1',
    [userId],
  )) as [{ id: string }]
  return row.id
}

/** A single-use token stored as the emailed link's would be. */
async function storedToken(table: 'email_verifications' | 'password_resets', userId: string) {
  const token = generateSecret()
  if (table === 'email_verifications')
    await sql(
      `INSERT INTO email_verifications (id, user_id, email, token_hash, expires_at)
       SELECT gen_random_uuid(), id, email, $2, now() + interval '1 hour' FROM users WHERE id = $1`,
      [userId, hashSecret(token)],
    )
  else
    await sql(
      `INSERT INTO password_resets (id, user_id, token_hash, expires_at)
       VALUES (gen_random_uuid(), $1, $2, now() + interval '1 hour')`,
      [userId, hashSecret(token)],
    )
  return token
}

/** The claim the last keyed request took (each test file has its own database). */
const lastClaim = async () =>
  (
    (await sql(
      'SELECT effect_committed_at, response_status FROM idempotency_keys ORDER BY created_at DESC LIMIT 1',
    )) as [{ effect_committed_at: Date | null; response_status: number | null }]
  )[0]

/** A keyed request; `stored` when the stored answer differs (one that held a secret). */
type Flow = InjectOptions & { expected: number; stored?: number }
const flows: Array<[string, () => Promise<Flow>]> = [
  [
    'revoke one session',
    async () => {
      const user = await signUp()
      const other = await secondSession(user.email, user.userId)
      const url = `/v1/auth/sessions/${other}`
      return { method: 'DELETE', url, headers: bearer(user.token), expected: 204 }
    },
  ],
  [
    'revoke the other sessions',
    async () => {
      const user = await signUp()
      await signIn(user.email)
      const url = '/v1/auth/sessions/revoke-others'
      return { method: 'POST', url, headers: bearer(user.token), expected: 200 }
    },
  ],
  [
    'sign out',
    async () => {
      const user = await signUp()
      return {
        method: 'POST',
        url: '/v1/auth/sign-out',
        headers: bearer(user.token),
        expected: 204,
      }
    },
  ],
  [
    'verify an email address',
    async () => {
      const user = await signUp()
      const token = await storedToken('email_verifications', user.userId)
      return { method: 'POST', url: '/v1/auth/verify-email', payload: { token }, expected: 200 }
    },
  ],
  [
    'send a new verification link',
    async () => {
      const user = await signUp()
      const url = '/v1/auth/verify-email/resend'
      return { method: 'POST', url, headers: bearer(user.token), expected: 202 }
    },
  ],
  [
    'reset a password',
    async () => {
      const user = await signUp()
      const token = await storedToken('password_resets', user.userId)
      const payload = { token, newPassword: 'another horse battery staple' }
      return { method: 'POST', url: '/v1/auth/password-reset/confirm', payload, expected: 204 }
    },
  ],
  [
    'start TOTP set-up',
    async () => {
      const user = await verifiedUser()
      const url = '/v1/auth/mfa/totp/setup'
      // Its answer holds the TOTP key: a retry is told it was done (409), never shown it.
      return { method: 'POST', url, headers: bearer(user.token), expected: 200, stored: 409 }
    },
  ],
  [
    'step up with the password',
    async () => {
      const user = await signUp()
      const url = '/v1/auth/mfa/step-up'
      return {
        method: 'POST',
        url,
        headers: bearer(user.token),
        payload: { password },
        expected: 204,
      }
    },
  ],
  [
    'turn MFA off',
    async () => {
      const user = await userWithMfa()
      return { method: 'DELETE', url: '/v1/auth/mfa', headers: bearer(user.token), expected: 204 }
    },
  ],
  [
    'change the profile',
    async () => {
      const user = await signUp()
      const payload = { name: 'Renamed' }
      return {
        method: 'PATCH',
        url: '/v1/auth/me',
        headers: bearer(user.token),
        payload,
        expected: 200,
      }
    },
  ],
  [
    'disconnect an OAuth provider',
    async () => {
      const user = await signUp()
      await sql(
        `INSERT INTO oauth_accounts (id, user_id, provider, provider_account_id)
         VALUES (gen_random_uuid(), $1, 'github', $2)`,
        [user.userId, user.email],
      )
      const url = '/v1/auth/oauth/accounts/github'
      return { method: 'DELETE', url, headers: bearer(user.token), expected: 204 }
    },
  ],
]

describe('keyed account writes mark their Idempotency-Key claim', () => {
  it.each(flows)('%s', async (_name, prepare) => {
    const { expected, stored = expected, ...request } = await prepare()
    const res = await server.inject({
      ...request,
      headers: { ...request.headers, 'idempotency-key': `effect-${crypto.randomUUID()}` },
    })
    expect(res.statusCode, res.body).toBe(expected)
    const claim = await lastClaim()
    expect(claim.response_status).toBe(stored)
    expect(claim.effect_committed_at).toBeInstanceOf(Date)
  })

  it('never runs again a revocation that died after its commit', async () => {
    const user = await signUp()
    const other = await secondSession(user.email, user.userId)
    const send = () =>
      server.inject({
        method: 'DELETE',
        url: `/v1/auth/sessions/${other}`,
        headers: { ...bearer(user.token), 'idempotency-key': 'revoke-crashed' },
      })
    expect((await send()).statusCode).toBe(204)
    // As if the process died after the commit and before storing the answer, and the lock
    // ran out: unmarked, the retry would run again (and answer 404 for its own change).
    await sql(
      `UPDATE idempotency_keys SET response_status = NULL, response_body = NULL,
         response_headers = NULL, locked_until = now() - interval '1 second'
       WHERE id = (SELECT id FROM idempotency_keys ORDER BY created_at DESC LIMIT 1)`,
    )
    const retry = await send()
    expect(retry.statusCode).toBe(409)
    expect(retry.json().type).toBe('urn:groundwork:problem:idempotency_answer_lost')
    expect(
      await sql(
        "SELECT count(*)::int AS n FROM audit_logs WHERE action = 'session.revoked' AND target_id = $1",
        [other],
      ),
    ).toEqual([{ n: 1 }])
  })

  it('rolls back an account change whose claim a retry took over', async () => {
    const user = await signUp()
    const other = await secondSession(user.email, user.userId)
    const claim = await claimIdempotencyKey(server.deps, {
      scope: { principal: `user:${user.userId}`, route: 'DELETE /v1/auth/sessions/:id', key: 'k' },
      requestHash: 'h',
      lockMs: 60_000,
      ttlMs: 3_600_000,
    })
    if (claim.outcome !== 'claimed') throw new Error('expected a claim')
    // This request outlived its lock, and a retry took the key over meanwhile.
    await sql(
      `UPDATE idempotency_keys SET locked_until = now() + interval '5 minutes'
       WHERE id = (SELECT id FROM idempotency_keys ORDER BY created_at DESC LIMIT 1)`,
    )
    await expect(
      runHoldingClaim(claim.claim, () =>
        revokeSession(server.deps, { userId: user.userId, sessionId: other }),
      ),
    ).rejects.toThrow(ClaimLostError)
    expect(await sql('SELECT id FROM sessions WHERE id = $1', [other])).toHaveLength(1)
  })

  it('lets a keyed request write after its answer (an onResponse audit) though its key was freed', async () => {
    const admin = await signUp()
    await sql('UPDATE users SET platform_admin = true WHERE id = $1', [admin.userId])
    // The dashboard's dead-letter queue is read-only: a refusal, so the key is freed, and
    // the operator's attempt is still audited once the answer is out.
    const add = () =>
      server.inject({
        method: 'POST',
        url: '/admin/queues/api/queues/dead-letter/add',
        headers: { ...bearer(admin.token), 'idempotency-key': 'add-refused' },
        payload: { name: 'x', data: {} },
      })
    const audited = () =>
      sql(
        "SELECT count(*)::int AS n FROM audit_logs WHERE actor_user_id = $1 AND action = 'queue_dashboard.changed'",
        [admin.userId],
      )
    const first = await add()
    expect(first.statusCode).toBeGreaterThanOrEqual(400)
    expect(first.statusCode).toBeLessThan(500)
    await expect.poll(audited).toEqual([{ n: 1 }])
    // Freed, not marked by the audit: the same request runs again rather than replaying.
    const again = await add()
    expect(again.statusCode).toBe(first.statusCode)
    expect(again.headers['idempotent-replayed']).toBeUndefined()
    await expect.poll(audited).toEqual([{ n: 2 }])
  })
})
