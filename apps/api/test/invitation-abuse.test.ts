import { describe, expect, it } from 'vitest'
import { addMember, signUpOwner, useApiServer } from './helpers.ts'

// Invitations send email to any address: they must not be a spam cannon.
const { server, sql } = useApiServer({
  INVITATION_RATE_LIMIT_USER_PER_MINUTE: '2',
  INVITATION_RATE_LIMIT_ORG_PER_MINUTE: '4',
})

const invite = (orgId: string, headers: Record<string, string>, email: string) =>
  server.inject({
    method: 'POST',
    url: `/v1/orgs/${orgId}/invitations`,
    headers,
    payload: { email, role: 'member' },
  })

const verify = (userId: string) =>
  sql('UPDATE users SET email_verified_at = now() WHERE id = $1', [userId])

describe('invitations are not a spam cannon', () => {
  it('need a verified email: an unverified account invites nobody and queues no email', async () => {
    const { headers, orgId } = await signUpOwner(server)
    const res = await invite(orgId, headers, 'target@example.com')
    expect(res.statusCode).toBe(403)
    expect(res.json().type).toBe('urn:groundwork:problem:email_not_verified')
    expect(await sql('SELECT id FROM invitations WHERE organization_id = $1', [orgId])).toEqual([])
    expect(
      await sql(
        "SELECT id FROM outbox_messages WHERE organization_id = $1 AND job_name = 'email.send'",
        [orgId],
      ),
    ).toEqual([])
  })

  it('are limited per inviting user and per organization, resends included', async () => {
    const owner = await signUpOwner(server)
    await verify(owner.userId)
    expect((await invite(owner.orgId, owner.headers, 'a@example.com')).statusCode).toBe(201)
    const second = await invite(owner.orgId, owner.headers, 'b@example.com')
    expect(second.statusCode).toBe(201)
    // The resend counts in the same bucket: the user's third invitation email this minute.
    const resend = await server.inject({
      method: 'POST',
      url: `/v1/orgs/${owner.orgId}/invitations/${second.json().id}/resend`,
      headers: owner.headers,
    })
    expect(resend.statusCode).toBe(429)
    expect(Number(resend.headers['retry-after'])).toBeGreaterThan(0)

    // Another admin of the same organization has their own user bucket, but the
    // organization's (4 a minute) is shared. The resend refused for the owner's own limit
    // sent nothing, so it used up nothing of the organization's.
    const admin = await addMember(server, sql, owner.orgId, 'admin')
    await verify(admin.userId)
    expect((await invite(owner.orgId, admin.headers, 'c@example.com')).statusCode).toBe(201)
    expect((await invite(owner.orgId, admin.headers, 'd@example.com')).statusCode).toBe(201)
    // A third admin's first invitation this minute: the organization's limit refuses it.
    const another = await addMember(server, sql, owner.orgId, 'admin')
    await verify(another.userId)
    const fifth = await invite(owner.orgId, another.headers, 'e@example.com')
    expect(fifth.statusCode).toBe(429)
    expect(fifth.json().detail).toMatch(/for this organization/)
  })

  it("count only invitations made: refused ones (invalid, duplicate) use up no one's limit", async () => {
    const owner = await signUpOwner(server)
    await verify(owner.userId)
    expect((await invite(owner.orgId, owner.headers, 'first@example.com')).statusCode).toBe(201)
    expect((await invite(owner.orgId, owner.headers, 'first@example.com')).statusCode).toBe(409)
    for (const email of ['not-an-email', '', 'x'.repeat(400)])
      expect((await invite(owner.orgId, owner.headers, email)).statusCode).toBe(400)
    // The user's limit is two a minute: the second invitation made is still allowed.
    expect((await invite(owner.orgId, owner.headers, 'second@example.com')).statusCode).toBe(201)
    expect((await invite(owner.orgId, owner.headers, 'third@example.com')).statusCode).toBe(429)
  })

  it('resending needs a recent sign-in, like inviting', async () => {
    const { headers, orgId, userId } = await signUpOwner(server)
    await verify(userId)
    const created = await invite(orgId, headers, 'later@example.com')
    await sql(
      "UPDATE sessions SET created_at = now() - interval '11 minutes', mfa_verified_at = NULL WHERE user_id = $1",
      [userId],
    )
    const resend = await server.inject({
      method: 'POST',
      url: `/v1/orgs/${orgId}/invitations/${created.json().id}/resend`,
      headers,
    })
    expect(resend.statusCode).toBe(403)
    expect(resend.json().type).toBe('urn:groundwork:problem:step_up_required')
  })
})
