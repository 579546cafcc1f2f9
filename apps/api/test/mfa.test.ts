import { decodeBase32IgnorePadding } from '@oslojs/encoding'
import { currentTotp, hashSecret } from '@repo/auth'
import { Redis } from 'ioredis'
import { describe, expect, it } from 'vitest'
import { useApiServer } from './helpers.ts'

const { server, sql, services } = useApiServer()
const password = 'correct horse battery staple'
const bearer = (token: string) => ({ authorization: `Bearer ${token}` })
const STEP_MS = 30_000

let n = 0
/** A user with TOTP turned on; `code(offsetSteps)` plays the authenticator app. */
async function userWithMfa() {
  const email = `mfa${++n}@example.com`
  const signUp = await server.inject({
    method: 'POST',
    url: '/v1/auth/sign-up',
    payload: { email, password, name: 'Mo' },
  })
  const unverified = await server.inject({
    method: 'POST',
    url: '/v1/auth/mfa/totp/setup',
    headers: bearer(signUp.json().token),
  })
  expect(unverified.json().type).toBe('urn:groundwork:problem:email_not_verified')
  await sql('UPDATE users SET email_verified_at = now() WHERE email = $1', [email])
  // A second device, signed in before MFA is turned on.
  const otherDevice = await server.inject({
    method: 'POST',
    url: '/v1/auth/sign-in',
    payload: { email, password },
  })
  const setup = await server.inject({
    method: 'POST',
    url: '/v1/auth/mfa/totp/setup',
    headers: bearer(signUp.json().token),
  })
  expect(setup.statusCode).toBe(200)
  expect(setup.json().uri).toMatch(/^otpauth:\/\/totp\/Groundwork:/)
  const key = decodeBase32IgnorePadding(setup.json().secret)
  const code = (offsetSteps = 0) => currentTotp(key, Date.now() + offsetSteps * STEP_MS)
  const confirm = await server.inject({
    method: 'POST',
    url: '/v1/auth/mfa/totp/confirm',
    headers: bearer(signUp.json().token),
    payload: { code: code() },
  })
  expect(confirm.statusCode).toBe(200)
  return {
    email,
    key,
    code,
    firstToken: signUp.json().token as string,
    otherDeviceToken: otherDevice.json().token as string,
    ...(confirm.json() as { token: string; recoveryCodes: string[] }),
  }
}

const signIn = (email: string) =>
  server.inject({ method: 'POST', url: '/v1/auth/sign-in', payload: { email, password } })
const verify = (payload: object) =>
  server.inject({ method: 'POST', url: '/v1/auth/mfa/verify', payload })

describe('TOTP enrolment', () => {
  it('stores the secret encrypted, issues recovery codes once, and replaces the session', async () => {
    const user = await userWithMfa()
    expect(user.recoveryCodes).toHaveLength(10)
    expect(
      (await server.inject({ url: '/v1/auth/me', headers: bearer(user.firstToken) })).statusCode,
    ).toBe(401)
    expect(
      (await server.inject({ url: '/v1/auth/me', headers: bearer(user.token) })).statusCode,
    ).toBe(200)
    const [row] = await sql(
      'SELECT f.secret FROM mfa_factors f JOIN users u ON u.id = f.user_id WHERE u.email = $1',
      [user.email],
    )
    expect(Buffer.from(row.secret).includes(Buffer.from(user.key))).toBe(false)
    const codes = await sql(
      'SELECT code_hash FROM recovery_codes r JOIN users u ON u.id = r.user_id WHERE u.email = $1',
      [user.email],
    )
    expect(codes.map((c) => c.code_hash)).not.toContain(user.recoveryCodes[0])
  })
})

describe('MFA changes end the other sessions', () => {
  const me = (token: string) => server.inject({ url: '/v1/auth/me', headers: bearer(token) })

  it('turning MFA on signs out every device; the enrolling one gets a new session', async () => {
    const user = await userWithMfa()
    expect((await me(user.otherDeviceToken)).statusCode).toBe(401)
    expect((await me(user.firstToken)).statusCode).toBe(401)
    expect((await me(user.token)).statusCode).toBe(200)
  })

  it('turning MFA off signs out every other device and keeps the caller', async () => {
    const user = await userWithMfa()
    const challenge = (await signIn(user.email)).json()
    const other = await verify({ mfaToken: challenge.mfaToken, code: user.code(1) })
    expect((await me(other.json().token)).statusCode).toBe(200)
    // The enrolment session proved a second factor just now: no step-up needed.
    const off = await server.inject({
      method: 'DELETE',
      url: '/v1/auth/mfa',
      headers: bearer(user.token),
    })
    expect(off.statusCode).toBe(204)
    expect((await me(other.json().token)).statusCode).toBe(401)
    expect((await me(user.token)).statusCode).toBe(200)
    const [audit] = await sql(
      "SELECT metadata FROM audit_logs WHERE action = 'mfa.disabled' AND actor_user_id = (SELECT id FROM users WHERE email = $1)",
      [user.email],
    )
    expect(audit.metadata).toEqual({ sessionsRevoked: 1 })
  })
})

describe('the account-wide sign-in throttle and MFA', () => {
  it('remembers the network of a completed MFA sign-in, so guessing elsewhere cannot lock its owner out', async () => {
    const user = await userWithMfa()
    const from = (remoteAddress: string, pass: string) =>
      server.inject({
        method: 'POST',
        url: '/v1/auth/sign-in',
        payload: { email: user.email, password: pass },
        remoteAddress,
      })
    const challenge = (await from('10.30.0.1', password)).json()
    const done = await server.inject({
      method: 'POST',
      url: '/v1/auth/mfa/verify',
      payload: { mfaToken: challenge.mfaToken, code: user.code(1) },
      remoteAddress: '10.30.0.1',
    })
    expect(done.statusCode).toBe(200)
    for (let i = 1; i <= 21; i++)
      expect((await from(`10.31.${i}.1`, `guess-${i}-xxxxx`)).statusCode).toBe(401)
    expect((await from('10.31.250.1', password)).statusCode).toBe(429)
    // Home is known: the password is checked, and the challenge follows.
    const home = await from('10.30.0.1', password)
    expect(home.statusCode).toBe(200)
    expect(home.json().mfaRequired).toBe(true)
  })
})

describe('sign-in with MFA', () => {
  it('answers a challenge instead of a session, then a session for the right code', async () => {
    const user = await userWithMfa()
    const first = (await signIn(user.email)).json()
    expect(first).toEqual({ mfaRequired: true, mfaToken: expect.any(String) })
    expect(first.token).toBeUndefined()
    expect((await verify({ mfaToken: first.mfaToken, code: '000000' })).statusCode).toBe(400)
    // One code, captured once: recomputing it later could land in the next 30-second step.
    const code = user.code(1)
    const ok = await verify({ mfaToken: first.mfaToken, code })
    expect(ok.statusCode).toBe(200)
    expect(
      (await server.inject({ url: '/v1/auth/me', headers: bearer(ok.json().token) })).statusCode,
    ).toBe(200)
    // The challenge is spent, and the same code is never accepted twice.
    expect((await verify({ mfaToken: first.mfaToken, code })).statusCode).toBe(401)
    const again = (await signIn(user.email)).json()
    expect((await verify({ mfaToken: again.mfaToken, code })).statusCode).toBe(400)
  })

  it('accepts each recovery code once', async () => {
    const user = await userWithMfa()
    const recoveryCode = user.recoveryCodes[3] as string
    const one = (await signIn(user.email)).json()
    expect((await verify({ mfaToken: one.mfaToken, recoveryCode })).statusCode).toBe(200)
    const two = (await signIn(user.email)).json()
    expect((await verify({ mfaToken: two.mfaToken, recoveryCode })).statusCode).toBe(400)
  })

  it('expires a challenge after five wrong codes', async () => {
    const user = await userWithMfa()
    const { mfaToken } = (await signIn(user.email)).json()
    for (let i = 0; i < 5; i++)
      expect((await verify({ mfaToken, code: '123456' })).statusCode).toBe(400)
    expect((await verify({ mfaToken, code: user.code(1) })).statusCode).toBe(401)
  })

  it('refuses forged challenges and malformed input', async () => {
    expect((await verify({ mfaToken: 'A'.repeat(43), code: '123456' })).statusCode).toBe(401)
    expect((await verify({ mfaToken: 'x' })).statusCode).toBe(400)
    expect((await verify({ mfaToken: 'x', code: 'x'.repeat(100) })).statusCode).toBe(400)
  })
})

describe('the MFA challenge', () => {
  const expired = 'urn:groundwork:problem:mfa_challenge_expired'

  it('lives at most five minutes in Redis', async () => {
    const user = await userWithMfa()
    const { mfaToken } = (await signIn(user.email)).json()
    const redis = new Redis(services().redis.url)
    try {
      const ttl = await redis.pttl(`groundwork:mfa:${hashSecret(mfaToken)}`)
      expect(ttl).toBeGreaterThan(4 * 60_000)
      expect(ttl).toBeLessThanOrEqual(5 * 60_000)
    } finally {
      redis.disconnect()
    }
  })

  it('dies when the password changes after it was issued', async () => {
    const user = await userWithMfa()
    const { mfaToken } = (await signIn(user.email)).json()
    const changed = await server.inject({
      method: 'POST',
      url: '/v1/auth/password',
      headers: bearer(user.token),
      payload: { currentPassword: password, newPassword: 'a different long passphrase' },
    })
    expect(changed.statusCode).toBe(200)
    const late = await verify({ mfaToken, code: user.code(1) })
    expect(late.statusCode).toBe(401)
    expect(late.json().type).toBe(expired)
  })

  it('dies when the account changes in the very millisecond it was issued', async () => {
    const user = await userWithMfa()
    const { mfaToken } = (await signIn(user.email)).json()
    const redis = new Redis(services().redis.url)
    let issuedAt: number
    try {
      const stored = await redis.get(`groundwork:mfa:${hashSecret(mfaToken)}`)
      issuedAt = Number(stored?.split(':')[1])
    } finally {
      redis.disconnect()
    }
    // Which came first is unknowable within one millisecond: the challenge must not survive.
    await sql('UPDATE users SET updated_at = to_timestamp($2::float8 / 1000) WHERE email = $1', [
      user.email,
      issuedAt,
    ])
    const late = await verify({ mfaToken, code: user.code(1) })
    expect(late.statusCode).toBe(401)
    expect(late.json().type).toBe(expired)
  })

  it('dies when two-factor authentication is turned off after it was issued', async () => {
    const user = await userWithMfa()
    const { mfaToken } = (await signIn(user.email)).json()
    // The signed-in session turns MFA off with a fresh second factor (a step-up).
    const stepUp = await server.inject({
      method: 'POST',
      url: '/v1/auth/mfa/step-up',
      headers: bearer(user.token),
      payload: { code: user.code(1) },
    })
    expect(stepUp.statusCode).toBe(204)
    const off = await server.inject({
      method: 'DELETE',
      url: '/v1/auth/mfa',
      headers: bearer(user.token),
    })
    expect(off.statusCode).toBe(204)
    const late = await verify({ mfaToken, code: user.code(2) })
    expect(late.statusCode).toBe(401)
    expect(late.json().type).toBe(expired)
  })
})

describe('TOTP codes', () => {
  it('refuses a code from a step older than the last accepted one', async () => {
    const user = await userWithMfa()
    // Both codes from one instant: the newer is the next step, the older the previous one
    // (never accepted before, and still inside the clock-drift window).
    const now = Date.now()
    const newer = currentTotp(user.key, now + STEP_MS)
    const older = currentTotp(user.key, now - STEP_MS)
    const first = (await signIn(user.email)).json()
    expect((await verify({ mfaToken: first.mfaToken, code: newer })).statusCode).toBe(200)
    const second = (await signIn(user.email)).json()
    const refused = await verify({ mfaToken: second.mfaToken, code: older })
    expect(refused.statusCode).toBe(400)
    expect(refused.json().type).toBe('urn:groundwork:problem:invalid_mfa_code')
  })
})

describe('wrong second factors', () => {
  it('share one exponential backoff per user between sign-in and step-up', async () => {
    const user = await userWithMfa()
    const stepUp = (code: string) =>
      server.inject({
        method: 'POST',
        url: '/v1/auth/mfa/step-up',
        headers: bearer(user.token),
        payload: { code },
      })
    // Three wrong codes at step-up and three at sign-in: six failures, past the five free
    // ones only if both count against the same user.
    // Two challenges up front: signing in takes a password hash, longer than a wait.
    const { mfaToken } = (await signIn(user.email)).json()
    const { mfaToken: again } = (await signIn(user.email)).json()
    for (let i = 0; i < 3; i++) expect((await stepUp('000000')).statusCode).toBe(400)
    for (let i = 0; i < 3; i++)
      expect((await verify({ mfaToken, code: '000000' })).statusCode).toBe(400)
    const atStepUp = await stepUp(user.code(1))
    expect(atStepUp.statusCode).toBe(429)
    expect(atStepUp.json().type).toBe('urn:groundwork:problem:sign_in_throttled')
    const atSignIn = await verify({ mfaToken: again, code: user.code(1) })
    expect(atSignIn.statusCode).toBe(429)
    expect(atSignIn.json().type).toBe('urn:groundwork:problem:sign_in_throttled')
    expect(atSignIn.headers['retry-after']).toBe('1')
    // Each wrong code past the wait doubles it, wherever it was given.
    const [{ id }] = await sql('SELECT id FROM users WHERE email = $1', [user.email])
    const redis = new Redis(services().redis.url)
    try {
      for (const [wrongAt, waits] of [
        [stepUp, '2'],
        [(code: string) => verify({ mfaToken: again, code }), '4'],
      ] as const) {
        await redis.del(`groundwork:mfa-fail:${id}:until`) // as if the wait were over
        expect((await wrongAt('000000')).statusCode).toBe(400)
        const waiting = await stepUp(user.code(1))
        expect(waiting.statusCode).toBe(429)
        expect(waiting.headers['retry-after']).toBe(waits)
      }
    } finally {
      redis.disconnect()
    }
  })
})

describe('step-up for sensitive actions', () => {
  it('requires a recent second factor to delete an organization or turn MFA off', async () => {
    const user = await userWithMfa()
    const orgId = (
      await server.inject({
        method: 'POST',
        url: '/v1/orgs',
        headers: bearer(user.token),
        payload: { name: 'Guarded' },
      })
    ).json().id
    // The enrolment session counts as verified; age it past the window.
    await sql(
      "UPDATE sessions SET mfa_verified_at = now() - interval '11 minutes' WHERE user_id = (SELECT id FROM users WHERE email = $1)",
      [user.email],
    )
    const blocked = await server.inject({
      method: 'DELETE',
      url: `/v1/orgs/${orgId}`,
      headers: bearer(user.token),
    })
    expect(blocked.statusCode).toBe(403)
    expect(blocked.json().type).toBe('urn:groundwork:problem:step_up_required')
    expect(
      (await server.inject({ method: 'DELETE', url: '/v1/auth/mfa', headers: bearer(user.token) }))
        .statusCode,
    ).toBe(403)

    expect(
      (
        await server.inject({
          method: 'POST',
          url: '/v1/auth/mfa/step-up',
          headers: bearer(user.token),
          payload: { code: user.code(1) },
        })
      ).statusCode,
    ).toBe(204)
    expect(
      (
        await server.inject({
          method: 'DELETE',
          url: `/v1/orgs/${orgId}`,
          headers: bearer(user.token),
        })
      ).statusCode,
    ).toBe(202)
    expect(
      (await server.inject({ method: 'DELETE', url: '/v1/auth/mfa', headers: bearer(user.token) }))
        .statusCode,
    ).toBe(204)
    const plain = await signIn(user.email)
    expect(plain.json().token).toEqual(expect.any(String))
  })
})
