import { decodeBase32IgnorePadding } from '@oslojs/encoding'
import { currentTotp } from '@repo/auth'
import { describe, expect, it } from 'vitest'
import { useApiServer } from './helpers.ts'

// What the web app's account pages read and change: the User answer's security state
// and the profile. The OAuth side (hasPassword false, connected providers) is in
// oauth-accounts.test.ts.
const { server, sql } = useApiServer()
const password = 'correct horse battery staple'
const bearer = (token: string) => ({ authorization: `Bearer ${token}` })

async function signUp(name = 'Ada Lovelace') {
  const email = `account-${crypto.randomUUID()}@example.com`
  const res = await server.inject({
    method: 'POST',
    url: '/v1/auth/sign-up',
    payload: { email, password, name },
  })
  expect(res.statusCode).toBe(201)
  return { email, token: res.json().token as string, user: res.json().user }
}
const me = async (token: string) =>
  (await server.inject({ url: '/v1/auth/me', headers: bearer(token) })).json()
const signIn = (email: string) =>
  server.inject({ method: 'POST', url: '/v1/auth/sign-in', payload: { email, password } })
const rename = (token: string, payload: object) =>
  server.inject({ method: 'PATCH', url: '/v1/auth/me', headers: bearer(token), payload })

describe('the User answer', () => {
  it('tells a new password account that it has a password, no second factor and no operator flag', async () => {
    const { token, user } = await signUp()
    const expected = { mfaEnabled: false, hasPassword: true, platformAdmin: false }
    expect(user).toMatchObject(expected)
    expect(await me(token)).toMatchObject(expected)
  })

  it('says platformAdmin only to the user the database flags', async () => {
    const operator = await signUp()
    const other = await signUp()
    await sql('UPDATE users SET platform_admin = true WHERE email = $1', [operator.email])
    expect((await me(operator.token)).platformAdmin).toBe(true)
    expect((await signIn(operator.email)).json().user.platformAdmin).toBe(true)
    expect((await me(other.token)).platformAdmin).toBe(false)
    expect((await signIn(other.email)).json().user.platformAdmin).toBe(false)
  })

  it('turns mfaEnabled on once TOTP is confirmed, and off again when it is turned off', async () => {
    const { email, token } = await signUp()
    await sql('UPDATE users SET email_verified_at = now() WHERE email = $1', [email])
    const setup = await server.inject({
      method: 'POST',
      url: '/v1/auth/mfa/totp/setup',
      headers: bearer(token),
    })
    const key = decodeBase32IgnorePadding(setup.json().secret)
    // Set up but not confirmed: not on yet.
    expect((await me(token)).mfaEnabled).toBe(false)
    const confirmed = await server.inject({
      method: 'POST',
      url: '/v1/auth/mfa/totp/confirm',
      headers: bearer(token),
      payload: { code: currentTotp(key) },
    })
    expect(confirmed.statusCode).toBe(200)
    const mfaToken = confirmed.json().token as string
    expect((await me(mfaToken)).mfaEnabled).toBe(true)
    const challenge = (await signIn(email)).json()
    const verified = await server.inject({
      method: 'POST',
      url: '/v1/auth/mfa/verify',
      payload: { mfaToken: challenge.mfaToken, recoveryCode: confirmed.json().recoveryCodes[0] },
    })
    expect(verified.json().user.mfaEnabled).toBe(true)

    const off = await server.inject({
      method: 'DELETE',
      url: '/v1/auth/mfa',
      headers: bearer(mfaToken),
    })
    expect(off.statusCode).toBe(204)
    expect((await me(mfaToken)).mfaEnabled).toBe(false)
    expect((await signIn(email)).json().user.mfaEnabled).toBe(false)
  })
})

describe('PATCH /v1/auth/me', () => {
  it('renames the caller, trimmed, and audits that the name changed but not to what', async () => {
    const { token, user } = await signUp()
    const res = await rename(token, { name: '  Ada King  ' })
    expect(res.statusCode).toBe(200)
    expect(res.json()).toEqual({ ...user, name: 'Ada King' })
    expect((await me(token)).name).toBe('Ada King')
    const audit = await sql(
      "SELECT metadata FROM audit_logs WHERE action = 'user.profile_updated' AND actor_user_id = $1",
      [user.id],
    )
    expect(audit).toEqual([{ metadata: { fields: ['name'] } }])
  })

  it.each([
    ['an empty name', { name: '' }, 'body.name'],
    ['a blank name', { name: '   ' }, 'body.name'],
    ['an invisible name', { name: '\u200b\u200d' }, 'body.name'],
    ['a NUL', { name: 'Ada\u0000' }, 'body.name'],
    ['a line break', { name: 'Ada\nKing' }, 'body.name'],
    ['an escape', { name: 'Ada\u001b[31m' }, 'body.name'],
    ['10,000 characters', { name: 'x'.repeat(10_000) }, 'body.name'],
    ['a number', { name: 42 }, 'body.name'],
    ['null', { name: null }, 'body.name'],
    ['an array', { name: ['Ada'] }, 'body.name'],
    ['no name', {}, 'body.name'],
    ['an unknown field', { name: 'Ada', email: 'evil@example.com' }, 'body'],
  ])('answers 400 naming the field for %s, and changes nothing', async (_case, payload, field) => {
    const { token } = await signUp('Unchanged')
    const res = await rename(token, payload)
    expect(res.statusCode).toBe(400)
    expect(res.headers['content-type']).toMatch(/^application\/problem\+json/)
    expect(res.json().errors.map((e: { field: string }) => e.field)).toContain(field)
    expect((await me(token)).name).toBe('Unchanged')
  })

  it('answers 401 without a session', async () => {
    const res = await server.inject({ method: 'PATCH', url: '/v1/auth/me', payload: { name: 'X' } })
    expect(res.statusCode).toBe(401)
  })
})
