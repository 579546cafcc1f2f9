import { openWebhookSecret } from '@repo/core'
import { beforeAll, describe, expect, it, vi } from 'vitest'
import { signUpOwner, useApiServer } from '../../api/test/helpers.ts'
import { auditEntries, callOps, opsEnv, runOps } from './helpers.ts'

// `pnpm ops` on users' sessions, API keys and webhook signing secrets, run as a child
// process the way an operator runs it, against a real API on the same Postgres and Redis:
// what the command changes is checked through the API (a revoked token is refused, a
// rotated key works and its old secret does not), and in the audit log.
const { server, services, sql } = useApiServer({ WEBHOOKS_ALLOW_PRIVATE_TARGETS: 'true' })
// Each test runs the CLI several times, a second or two each on a loaded machine.
vi.setConfig({ testTimeout: 60_000 })
const DEV_SECRETS_KEY = Buffer.from('groundwork-development-only-key!', 'utf8')
let env: Record<string, string>
beforeAll(() => {
  env = opsEnv(services(), { OPS_OPERATOR: 'alice (on call)' })
})
/** As an operator runs it: a child process. */
const shell = (...args: string[]) => runOps(args, env)
/** The same, in this process: for re-runs, refusals and wrong input. */
const ops = (...args: string[]) => callOps(args, env)
const me = (authorization: string) =>
  server.inject({ url: '/v1/auth/me', headers: { authorization } })

async function verifiedOwner(name: string) {
  const owner = await signUpOwner(server, name)
  await sql('UPDATE users SET email_verified_at = now() WHERE id = $1', [owner.userId])
  const [user] = (await sql('SELECT email FROM users WHERE id = $1', [owner.userId])) as {
    email: string
  }[]
  return { ...owner, email: user?.email as string }
}

describe('ops sessions revoke', () => {
  it('signs a user out everywhere, records who did it, and is safe to run again', async () => {
    const owner = await verifiedOwner('Sessions')
    const second = await server.inject({
      method: 'POST',
      url: '/v1/auth/sign-in',
      payload: { email: owner.email, password: 'correct horse battery staple' },
    })
    const tokens = [owner.headers.authorization, `Bearer ${second.json().token}`]
    for (const token of tokens) expect((await me(token)).statusCode).toBe(200)
    const bystander = await signUpOwner(server, 'Bystander')

    // Without a terminal to ask on and without --yes: refused, nothing revoked.
    const refused = await ops('sessions', 'revoke', owner.email.toUpperCase())
    expect(refused.code).toBe(4)
    expect(refused.err).toContain('--yes')
    expect((await me(tokens[0] as string)).statusCode).toBe(200)

    const done = await shell('--yes', 'sessions', 'revoke', owner.email.toUpperCase())
    expect(done.code, done.err).toBe(0)
    expect(done.out).toContain(`Revoked 2 session(s) of ${owner.email}`)
    for (const token of tokens) expect((await me(token)).statusCode).toBe(401)
    expect((await me(bystander.headers.authorization)).statusCode).toBe(200)
    const entries = await auditEntries(services().database.url, 'session.revoked_all')
    expect(entries).toEqual([
      expect.objectContaining({
        actor_operator: 'alice (on call)',
        actor_user_id: null,
        organization_id: null,
        target_type: 'user',
        target_id: owner.userId,
        metadata: { revoked: 2 },
      }),
    ])

    // Again, by id: already done, nothing more recorded.
    const again = await ops('--yes', 'sessions', 'revoke', owner.userId)
    expect(again.code).toBe(0)
    expect(again.out).toContain('Already done')
    expect(await auditEntries(services().database.url, 'session.revoked_all')).toHaveLength(1)
  })

  it('says so for a user who does not exist (exit 3)', async () => {
    const run = await ops('--yes', 'sessions', 'revoke', 'nobody@example.com')
    expect(run.code).toBe(3)
    expect(run.err).toContain('nobody@example.com was not found')
    expect(run.err).not.toMatch(/\bat .*\.ts:\d+/)
  })
})

describe('ops api-keys rotate', () => {
  it('gives the key a new secret under the same id; the old one stops working at once', async () => {
    const owner = await verifiedOwner('Keys')
    const created = await server.inject({
      method: 'POST',
      url: `/v1/orgs/${owner.orgId}/api-keys`,
      headers: owner.headers,
      payload: { name: 'ci', scopes: ['organization:read'] },
    })
    const { id, key: oldKey, prefix } = created.json()
    const useKey = (key: string) =>
      server.inject({ url: `/v1/orgs/${owner.orgId}`, headers: { authorization: `Bearer ${key}` } })
    expect((await useKey(oldKey)).statusCode).toBe(200)

    expect((await ops('api-keys', 'rotate', id)).code).toBe(4)
    expect((await useKey(oldKey)).statusCode).toBe(200)

    const done = await shell('--yes', 'api-keys', 'rotate', id)
    expect(done.code, done.err).toBe(0)
    const newKey = done.out.trim().split('\n').at(-1) as string
    expect(newKey).toMatch(new RegExp(`^gw_${prefix}_[A-Za-z0-9_-]{43}$`))
    expect(newKey).not.toBe(oldKey)
    expect((await useKey(oldKey)).statusCode).toBe(401)
    expect((await useKey(newKey)).statusCode).toBe(200)
    const list = await server.inject({
      url: `/v1/orgs/${owner.orgId}/api-keys`,
      headers: owner.headers,
    })
    expect(list.json().data).toEqual([expect.objectContaining({ id, prefix, name: 'ci' })])
    const entries = await auditEntries(services().database.url, 'api_key.secret_rotated')
    expect(entries).toEqual([
      expect.objectContaining({
        organization_id: owner.orgId,
        actor_operator: 'alice (on call)',
        actor_user_id: null,
        target_type: 'api_key',
        target_id: id,
      }),
    ])
    // The organization's own audit log shows it, as done by the platform (no member).
    const log = await server.inject({
      url: `/v1/orgs/${owner.orgId}/audit-log?action=api_key.secret_rotated`,
      headers: owner.headers,
    })
    expect(log.json().data).toEqual([expect.objectContaining({ actor: null, targetId: id })])

    // A re-run (the output was lost, the command retried) rotates nothing.
    const again = await ops('--yes', 'api-keys', 'rotate', id)
    expect(again.code).toBe(0)
    expect(again.out).toContain('Already done')
    expect((await useKey(newKey)).statusCode).toBe(200)
    // --force does rotate again.
    const forced = await ops('--yes', 'api-keys', 'rotate', id, '--force')
    expect(forced.code, forced.err).toBe(0)
    expect((await useKey(newKey)).statusCode).toBe(401)
    expect((await useKey(forced.out.trim().split('\n').at(-1) as string)).statusCode).toBe(200)
    expect(await auditEntries(services().database.url, 'api_key.secret_rotated')).toHaveLength(2)

    // Revoked: nothing to rotate.
    await server.inject({
      method: 'DELETE',
      url: `/v1/orgs/${owner.orgId}/api-keys/${id}`,
      headers: owner.headers,
    })
    const revoked = await ops('--yes', 'api-keys', 'rotate', id)
    expect(revoked.code).toBe(3)
    expect(revoked.err).toContain('revoked')
  })

  it('says so for an id that is no key (exit 3), malformed or not', async () => {
    for (const id of [crypto.randomUUID(), 'not-a-uuid']) {
      const run = await ops('--yes', 'api-keys', 'rotate', id)
      expect(run.code, id).toBe(3)
      expect(run.err).toContain(`No API key ${id}`)
    }
  })
})

describe('ops webhooks rotate-secret', () => {
  it('prints a new secret once; the previous one keeps signing for the grace period', async () => {
    const owner = await verifiedOwner('Hooks')
    const created = await server.inject({
      method: 'POST',
      url: `/v1/orgs/${owner.orgId}/webhook-endpoints`,
      headers: owner.headers,
      payload: { url: 'http://127.0.0.1:9/hook', events: ['project.created'] },
    })
    const { id, secret: oldSecret } = created.json()

    expect((await ops('webhooks', 'rotate-secret', id)).code).toBe(4)
    const done = await shell('--yes', 'webhooks', 'rotate-secret', id)
    expect(done.code, done.err).toBe(0)
    const newSecret = done.out.trim().split('\n').at(-1) as string
    expect(newSecret).toMatch(/^whsec_/)
    expect(newSecret).not.toBe(oldSecret)
    const [row] = (await sql(
      `SELECT secret, previous_secret, previous_secret_expires_at - now() > interval '23 hours' AS grace
       FROM webhook_endpoints WHERE id = $1`,
      [id],
    )) as { secret: Buffer; previous_secret: Buffer; grace: boolean }[]
    expect(openWebhookSecret(DEV_SECRETS_KEY, row?.secret as Buffer)).toBe(newSecret)
    expect(openWebhookSecret(DEV_SECRETS_KEY, row?.previous_secret as Buffer)).toBe(oldSecret)
    expect(row?.grace).toBe(true)
    expect(await auditEntries(services().database.url, 'webhook_endpoint.secret_rotated')).toEqual([
      expect.objectContaining({
        organization_id: owner.orgId,
        actor_operator: 'alice (on call)',
        target_id: id,
      }),
    ])

    // Re-run during the grace period: nothing rotates (that would drop the old secret now).
    const again = await ops('--yes', 'webhooks', 'rotate-secret', id)
    expect(again.code).toBe(0)
    expect(again.out).toContain('Already done')
    const [after] = (await sql('SELECT secret FROM webhook_endpoints WHERE id = $1', [id])) as {
      secret: Buffer
    }[]
    expect(openWebhookSecret(DEV_SECRETS_KEY, after?.secret as Buffer)).toBe(newSecret)

    const missing = await ops('--yes', 'webhooks', 'rotate-secret', crypto.randomUUID())
    expect(missing.code).toBe(3)
  })
})
