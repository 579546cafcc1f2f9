import type { ChildProcess } from 'node:child_process'
import { accessChangesChannel, encodeAccessChange } from '@repo/core'
import { type GatedPort, startGatedPort, useIsolatedServices, waitUntil } from '@repo/testing'
import { Redis } from 'ioredis'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startReadyApi } from './api-process.ts'
import { ownerQuery } from './helpers.ts'

// Two real API processes on one Postgres and one Redis, as two instances behind a load
// balancer: what one revokes, the other must stop accepting (ADR 035).
const services = useIsolatedServices()
const children: ChildProcess[] = []
const gates: GatedPort[] = []
/** The cache lifetime: what a lost announcement can cost. */
const TTL_MS = 10_000
/**
 * Within this of a change returning on one instance, the other refuses: an announcement
 * takes Redis a millisecond or two to deliver; the bound leaves room for the HTTP round
 * trips to a loaded 2-core CI machine, and is a tenth of TTL_MS, so a lost announcement
 * fails it.
 */
const ANNOUNCED_MS = 1_000

async function startApi(redisUrl: string) {
  const { api, base } = await startReadyApi(
    {
      DATABASE_URL: services().database.appUrl,
      REDIS_URL: redisUrl,
      ACCESS_CACHE_TTL_MS: String(TTL_MS),
      RATE_LIMIT_IP_PER_MINUTE: '1000000',
      RATE_LIMIT_USER_PER_MINUTE: '1000000',
      RATE_LIMIT_ORG_PER_MINUTE: '1000000',
      AUTH_RATE_LIMIT_PER_MINUTE: '10000',
    },
    children,
  )
  // Serving from memory starts once the instance listens for announcements.
  await waitUntil(() => api.output().includes('listening for access changes'), {
    what: 'the API to subscribe to access changes',
    gaveUp: api.gaveUp,
    detail: api.output,
  })
  return { base, output: api.output }
}

type Api = Awaited<ReturnType<typeof startApi>>
let a: Api
let b: Api
/** A second instance reaching Redis through a port this test can shut (see the last test). */
let cut: Api
let cutGate: GatedPort

const password = 'correct horse battery staple'

async function call(
  api: Api,
  method: string,
  path: string,
  token?: string,
  body?: unknown,
): Promise<{ status: number; json: () => Promise<Record<string, unknown>> }> {
  const res = await fetch(`${api.base}${path}`, {
    method,
    headers: {
      ...(token ? { authorization: `Bearer ${token}` } : {}),
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  })
  return { status: res.status, json: () => res.json() as Promise<Record<string, unknown>> }
}

async function signUp(api: Api, name: string) {
  const res = await call(api, 'POST', '/v1/auth/sign-up', undefined, {
    email: `${name}-${crypto.randomUUID()}@example.com`,
    password,
    name,
  })
  expect(res.status).toBe(201)
  const body = await res.json()
  return { token: body.token as string, userId: (body.user as { id: string }).id }
}

async function ownerWithOrganization(api: Api) {
  const owner = await signUp(api, 'owner')
  const org = await call(api, 'POST', '/v1/orgs', owner.token, { name: 'Acme' })
  expect(org.status).toBe(201)
  return { ...owner, orgId: (await org.json()).id as string }
}

/** Asks until `status` comes back; resolves with how long after `since` it first did. */
async function msUntil(
  since: number,
  ask: () => Promise<{ status: number }>,
  status: number,
  timeoutMs: number,
) {
  let last = 0
  await waitUntil(
    async () => {
      last = (await ask()).status
      return last === status
    },
    { what: `an answer ${status}`, timeoutMs, intervalMs: 5, detail: () => `last: ${last}` },
  )
  return performance.now() - since
}

beforeAll(async () => {
  const redisUrl = new URL(services().redis.url)
  cutGate = await startGatedPort({ target: Number(redisUrl.port) })
  gates.push(cutGate)
  cutGate.open()
  const gated = new URL(redisUrl)
  gated.port = String(cutGate.port)
  // One after another: three cold starts at once on a busy 2-core machine can take longer
  // than Fastify gives its plugins to load.
  a = await startApi(redisUrl.toString())
  b = await startApi(redisUrl.toString())
  cut = await startApi(gated.toString())
}, 180_000)

afterAll(async () => {
  for (const child of children.splice(0)) if (child.exitCode === null) child.kill('SIGKILL')
  await Promise.all(gates.map((gate) => gate.close()))
})

describe('sessions and memberships kept in memory, across two API processes', () => {
  it(
    'serves a session from memory: a deletion nobody announces is seen only after the cache lifetime',
    async () => {
      const { token, orgId, userId } = await ownerWithOrganization(a)
      const list = () => call(b, 'GET', `/v1/orgs/${orgId}/projects`, token)
      expect((await list()).status).toBe(200)
      // Behind the API's back (no announcement): B still has its copy for up to TTL_MS.
      const deleted = performance.now()
      await ownerQuery(services().database.url, 'DELETE FROM sessions WHERE user_id = $1', [userId])
      expect((await list()).status).toBe(200)
      const refusedAfter = await msUntil(deleted, list, 401, TTL_MS + 5_000)
      expect(refusedAfter).toBeLessThanOrEqual(TTL_MS + 3_000)
    },
    TTL_MS + 15_000,
  )

  it('hears the announcements of its own Redis database only', async () => {
    const subject = await ownerWithOrganization(a)
    // A second caller whose announcement, on B's own channel, shows when B has read up to it.
    const marker = await ownerWithOrganization(a)
    const list = (who: { token: string; orgId: string }) => () =>
      call(b, 'GET', `/v1/orgs/${who.orgId}/projects`, who.token)
    expect((await list(subject)()).status).toBe(200)
    expect((await list(marker)()).status).toBe(200)
    await ownerQuery(services().database.url, 'DELETE FROM sessions WHERE user_id = ANY($1)', [
      [subject.userId, marker.userId],
    ])
    const url = new URL(services().redis.url)
    const ours = Number(url.pathname.slice(1) || 0)
    const publisher = new Redis(url.toString(), { maxRetriesPerRequest: 1 })
    try {
      // Pub/sub is server-wide: another deployment (or test run) on another database of the
      // same Redis server announces its changes, and publishes something that is no change.
      const theirs = accessChangesChannel({ options: { db: (ours + 1) % 16 } })
      const change = encodeAccessChange({ userIds: [subject.userId] })
      await publisher.publish(theirs, change)
      await publisher.publish(theirs, 'not an access change')
      // Redis delivers one publisher's messages in order: once B acts on the marker's
      // change, it has had everything published before it that it was going to hear.
      await publisher.publish(
        accessChangesChannel({ options: { db: ours } }),
        encodeAccessChange({ userIds: [marker.userId] }),
      )
      const published = performance.now()
      expect(await msUntil(published, list(marker), 401, TTL_MS)).toBeLessThan(ANNOUNCED_MS)
      // B heard neither of the other database's messages: it still serves its copy.
      expect((await list(subject)()).status).toBe(200)
    } finally {
      publisher.disconnect()
    }
  })

  it('a session revoked on one instance is refused by the other at once, not after the cache lifetime', async () => {
    const { token, orgId } = await ownerWithOrganization(a)
    const list = () => call(b, 'GET', `/v1/orgs/${orgId}/projects`, token)
    // Both instances hold the session (and B the membership).
    expect((await list()).status).toBe(200)
    expect((await list()).status).toBe(200)
    expect((await call(a, 'GET', `/v1/orgs/${orgId}/projects`, token)).status).toBe(200)

    const signedOut = await call(a, 'POST', '/v1/auth/sign-out', token)
    expect(signedOut.status).toBe(204)
    const returned = performance.now()
    expect(await msUntil(returned, list, 401, TTL_MS)).toBeLessThan(ANNOUNCED_MS)
    // And on the instance that revoked it, at once.
    expect((await call(a, 'GET', `/v1/orgs/${orgId}/projects`, token)).status).toBe(401)
  })

  it('a demotion on one instance is refused by the other at once', async () => {
    const owner = await ownerWithOrganization(a)
    const admin = await signUp(a, 'admin')
    await ownerQuery(
      services().database.url,
      `INSERT INTO memberships (id, organization_id, user_id, role, updated_at)
       VALUES (gen_random_uuid(), $1, $2, 'admin', now())`,
      [owner.orgId, admin.userId],
    )
    const auditLog = () => call(b, 'GET', `/v1/orgs/${owner.orgId}/audit-log`, admin.token)
    expect((await auditLog()).status).toBe(200)
    expect((await auditLog()).status).toBe(200)

    const demoted = await call(
      a,
      'PATCH',
      `/v1/orgs/${owner.orgId}/members/${admin.userId}`,
      owner.token,
      {
        role: 'member',
      },
    )
    expect(demoted.status).toBe(200)
    const returned = performance.now()
    expect(await msUntil(returned, auditLog, 403, TTL_MS)).toBeLessThan(ANNOUNCED_MS)
    // Still a member: the organization's member routes keep answering.
    expect((await call(b, 'GET', `/v1/orgs/${owner.orgId}/projects`, admin.token)).status).toBe(200)
  })

  it('a removed member is refused by the other instance at once', async () => {
    const owner = await ownerWithOrganization(a)
    const member = await signUp(a, 'member')
    await ownerQuery(
      services().database.url,
      `INSERT INTO memberships (id, organization_id, user_id, role, updated_at)
       VALUES (gen_random_uuid(), $1, $2, 'member', now())`,
      [owner.orgId, member.userId],
    )
    const list = () => call(b, 'GET', `/v1/orgs/${owner.orgId}/projects`, member.token)
    expect((await list()).status).toBe(200)
    const removed = await call(
      a,
      'DELETE',
      `/v1/orgs/${owner.orgId}/members/${member.userId}`,
      owner.token,
    )
    expect(removed.status).toBe(204)
    const returned = performance.now()
    expect(await msUntil(returned, list, 404, TTL_MS)).toBeLessThan(ANNOUNCED_MS)
  })

  it(
    'with the announcement lost, the other instance refuses within the cache lifetime',
    async () => {
      const { token, orgId } = await ownerWithOrganization(a)
      const list = () => call(b, 'GET', `/v1/orgs/${orgId}/projects`, token)
      expect((await list()).status).toBe(200)
      // The instance that revokes cannot reach Redis: its announcement is lost, and B (which
      // can) never hears it, so B serves its copy until it expires.
      cutGate.shut()
      try {
        const signedOut = await call(cut, 'POST', '/v1/auth/sign-out', token)
        expect(signedOut.status).toBe(204)
        const returned = performance.now()
        // Nobody told B: it still serves its copy...
        expect((await list()).status).toBe(200)
        // ...until the copy expires.
        const refusedAfter = await msUntil(returned, list, 401, TTL_MS + 5_000)
        expect(refusedAfter).toBeLessThanOrEqual(TTL_MS + 3_000)
        expect(cut.output()).toContain('access change not published')
      } finally {
        cutGate.open()
      }
    },
    TTL_MS + 15_000,
  )
})
