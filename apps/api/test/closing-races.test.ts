import pg from 'pg'
import { describe, expect, it } from 'vitest'
import { signUpOwner, useApiServer } from './helpers.ts'

// Access ends the moment a removal or a deletion is asked for, also for what raced it:
// an API key made just before (its revocation missed it) and an invitation made while the
// deletion commits.
const { server, services, sql } = useApiServer()

async function verifiedOwner() {
  const owner = await signUpOwner(server)
  await sql('UPDATE users SET email_verified_at = now() WHERE id = $1', [owner.userId])
  return owner
}

async function apiKey(owner: Awaited<ReturnType<typeof verifiedOwner>>) {
  const created = await server.inject({
    method: 'POST',
    url: `/v1/orgs/${owner.orgId}/api-keys`,
    headers: owner.headers,
    payload: { name: 'ci', scopes: ['organization:read', 'projects:read'] },
  })
  expect(created.statusCode).toBe(201)
  return { authorization: `Bearer ${created.json().key}` }
}

describe('API keys', () => {
  it('stop working as soon as their creator is being removed, even if not revoked', async () => {
    const owner = await verifiedOwner()
    const headers = await apiKey(owner)
    expect((await server.inject({ url: `/v1/orgs/${owner.orgId}`, headers })).statusCode).toBe(200)
    // What a key that raced the removal looks like: live, its creator being removed.
    await sql(
      'UPDATE memberships SET removal_requested_at = now() WHERE organization_id = $1 AND user_id = $2',
      [owner.orgId, owner.userId],
    )
    const refused = await server.inject({ url: `/v1/orgs/${owner.orgId}`, headers })
    expect(refused.statusCode).toBe(401)
    // The previous release's lookup, kept for rolling deploys, agrees.
    expect(
      await sql('SELECT app_membership_role($1, $2) AS role', [owner.orgId, owner.userId]),
    ).toEqual([{ role: null }])
  })

  it('answer 409 in an organization being deleted, except for reading its state', async () => {
    const owner = await verifiedOwner()
    const headers = await apiKey(owner)
    await sql('UPDATE organizations SET deletion_requested_at = now() WHERE id = $1', [owner.orgId])
    const projects = await server.inject({ url: `/v1/orgs/${owner.orgId}/projects`, headers })
    expect(projects.statusCode).toBe(409)
    expect(projects.json().type).toBe('urn:groundwork:problem:organization_deleting')
    const state = await server.inject({ url: `/v1/orgs/${owner.orgId}`, headers })
    expect(state.statusCode).toBe(200)
    expect(state.json().deletionRequestedAt).toEqual(expect.any(String))
  })
})

describe('an invitation made while the deletion commits', () => {
  it('waits for it and is refused: no live invitation in a closed organization', async () => {
    const owner = await verifiedOwner()
    const client = new pg.Client({ connectionString: services().database.url })
    await client.connect()
    try {
      // The deletion's first statement, held open: the invitation's access check has
      // already passed (it reads what is committed) when its transaction reaches the lock.
      await client.query('BEGIN')
      await client.query('UPDATE organizations SET deletion_requested_at = now() WHERE id = $1', [
        owner.orgId,
      ])
      const invited = server.inject({
        method: 'POST',
        url: `/v1/orgs/${owner.orgId}/invitations`,
        headers: owner.headers,
        payload: { email: 'late@example.com', role: 'member' },
      })
      // Until the invitation's transaction is waiting on the organization's row.
      await expect
        .poll(
          async () =>
            (
              await client.query(
                `SELECT count(*)::int AS n FROM pg_stat_activity
                 WHERE wait_event_type = 'Lock' AND datname = current_database()`,
              )
            ).rows[0].n,
          { timeout: 10_000, interval: 20 },
        )
        .toBe(1)
      await client.query('COMMIT')
      const answer = await invited
      expect(answer.statusCode).toBe(404)
      expect(
        await sql('SELECT id FROM invitations WHERE organization_id = $1', [owner.orgId]),
      ).toEqual([])
    } finally {
      await client.end()
    }
  })
})
