import { beforeAll, describe, expect, it } from 'vitest'
import { useApiServer } from './helpers.ts'

const { server, sql } = useApiServer()
let owner: { authorization: string }
let orgId: string

/** Signs up `email` (verified or not) and creates an organization: its headers and id. */
async function ownerOf(email: string, { verified }: { verified: boolean }) {
  const res = await server.inject({
    method: 'POST',
    url: '/v1/auth/sign-up',
    payload: { email, password: 'correct horse battery staple', name: 'Kim' },
  })
  if (verified) await sql('UPDATE users SET email_verified_at = now() WHERE email = $1', [email])
  const headers = { authorization: `Bearer ${res.json().token}` }
  const org = await server.inject({
    method: 'POST',
    url: '/v1/orgs',
    headers,
    payload: { name: 'Keys Inc' },
  })
  return { headers, orgId: org.json().id as string }
}

// Each test works in its own organization (or on keys of its own), so none depends on
// what another created or changed before it.
beforeAll(async () => {
  ;({ headers: owner, orgId } = await ownerOf('keys-owner@example.com', { verified: true }))
})

const create = (payload: object, org = orgId, headers = owner) =>
  server.inject({ method: 'POST', url: `/v1/orgs/${org}/api-keys`, headers, payload })
const useKey = (key: string, org = orgId) =>
  server.inject({ url: `/v1/orgs/${org}`, headers: { authorization: `Bearer ${key}` } })

describe('API keys', () => {
  it('need a verified email to create', async () => {
    const unverified = await ownerOf('keys-unverified@example.com', { verified: false })
    const res = await create(
      { name: 'ci', scopes: ['organization:read'] },
      unverified.orgId,
      unverified.headers,
    )
    expect(res.statusCode).toBe(403)
    expect(res.json().type).toBe('urn:groundwork:problem:email_not_verified')
  })

  it('are shown once, stored hashed, listed by prefix, and work instead of a session', async () => {
    // An organization with no other key, so the list shows exactly this one.
    const { orgId, headers } = await ownerOf('keys-lister@example.com', { verified: true })
    const res = await create(
      { name: ' ci bot ', scopes: ['organization:read'], expiresInDays: 30 },
      orgId,
      headers,
    )
    expect(res.statusCode).toBe(201)
    const { key, prefix, id } = res.json()
    expect(key).toMatch(new RegExp(`^gw_${prefix}_[A-Za-z0-9_-]{43}$`))
    const [row] = await sql('SELECT secret_hash, prefix FROM api_keys WHERE id = $1', [id])
    expect(row.secret_hash).toMatch(/^[0-9a-f]{64}$/)
    expect(JSON.stringify(row)).not.toContain(key.slice(16))
    const list = (await server.inject({ url: `/v1/orgs/${orgId}/api-keys`, headers })).json()
    expect(list.data).toEqual([
      expect.objectContaining({ id, name: 'ci bot', prefix, scopes: ['organization:read'] }),
    ])
    expect(JSON.stringify(list)).not.toContain(key)

    const used = await useKey(key, orgId)
    expect(used.statusCode).toBe(200)
    expect(used.json()).toMatchObject({ id: orgId, name: 'Keys Inc' })
    const [after] = await sql('SELECT last_used_at FROM api_keys WHERE id = $1', [id])
    expect(after.last_used_at).not.toBeNull()
    // Keys are for organization routes that accept them, not for user routes.
    expect(
      (await server.inject({ url: '/v1/auth/me', headers: { authorization: `Bearer ${key}` } }))
        .statusCode,
    ).toBe(403)
  })

  it('stop working when revoked or expired; forged keys never work', async () => {
    const revoked = (await create({ name: 'revoked', scopes: ['organization:read'] })).json()
    expect((await useKey(revoked.key)).statusCode).toBe(200)
    expect(
      (
        await server.inject({
          method: 'DELETE',
          url: `/v1/orgs/${orgId}/api-keys/${revoked.id}`,
          headers: owner,
        })
      ).statusCode,
    ).toBe(204)
    expect((await useKey(revoked.key)).statusCode).toBe(401)

    const expired = (
      await create({ name: 'expired', scopes: ['organization:read'], expiresInDays: 1 })
    ).json()
    await sql("UPDATE api_keys SET expires_at = now() - interval '1 second' WHERE id = $1", [
      expired.id,
    ])
    expect((await useKey(expired.key)).statusCode).toBe(401)

    const real = (await create({ name: 'real', scopes: ['organization:read'] })).json()
      .key as string
    for (const forged of [
      `gw_${'0'.repeat(12)}_${'A'.repeat(43)}`,
      real.slice(0, -1),
      `${real}x`,
      'gw_',
      "gw_' OR 1=1 --",
    ]) {
      expect((await useKey(forged)).statusCode, forged).toBe(401)
    }
  })

  it('reject unknown scopes and bad input with 400', async () => {
    for (const payload of [
      { name: 'x', scopes: [] },
      { name: 'x', scopes: ['admin:all'] },
      { name: '', scopes: ['organization:read'] },
      { name: 'x', scopes: ['organization:read'], expiresInDays: 0 },
    ]) {
      expect((await create(payload)).statusCode, JSON.stringify(payload)).toBe(400)
    }
  })
})
