import { createRequire } from 'node:module'
import { claimIdempotencyKey, purgeExpiredIdempotencyKeys, releaseIdempotencyKey } from '@repo/core'
import { runHoldingClaim, withTenant } from '@repo/db'
import { useIsolatedServices } from '@repo/testing'
import type { FastifyInstance } from 'fastify'
import { Redis } from 'ioredis'
import pg from 'pg'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { buildTestServer, forgetAccess, ownerQuery, signUpOwner } from './helpers.ts'

// Idempotency-Key on every POST, PATCH and DELETE: same key and request replays the first answer;
// same key with another request is 422; a duplicate while the first runs is 409. One
// effect, always: checked against the rows, with sequential and truly concurrent retries.
const services = useIsolatedServices()
let server: FastifyInstance
let baseUrl = ''
// Behind the API's back, so nobody announces it: the server forgets what it kept (ADR 035).
const sql = async (query: string, values: unknown[] = []) => {
  const rows = await ownerQuery(services().database.url, query, values)
  if (server) forgetAccess(server)
  return rows
}

/**
 * Requests of the held route wait in their handler, their key claimed and nothing written
 * yet (as on a slow outside call), until the test opens their gate: one gate per request,
 * in the order they arrive. While `holding` is off they go straight through.
 */
const gates: Array<() => void> = []
let holding = true
// @fastify/autoload loads the app's routes and plugins through Node's own loader, so the
// app runs its own instance of @repo/core (and of @repo/db, whose context marks the
// claim); the held route calls that one, as the app's routes do, not this file's.
const appCore: typeof import('@repo/core') = createRequire(import.meta.url)('@repo/core')
// The app's @repo/db too: createProject writes in one round trip through the pool of the
// app's client (writeWithTenant), which only the instance that made the client knows.
const appDb: typeof import('@repo/db') = createRequire(import.meta.url)('@repo/db')

beforeAll(async () => {
  const { database, redis } = services()
  server = await buildTestServer(
    {
      DATABASE_URL: database.appUrl,
      REDIS_URL: redis.url,
      // OAuth start answers without calling the provider.
      GITHUB_CLIENT_ID: 'idempotency-test',
      GITHUB_CLIENT_SECRET: 'idempotency-test',
    },
    (app) => {
      // Creates a task (no natural key: only the claim keeps a second run from adding a
      // second one) like the real route, one transaction through withTenant.
      app.post(
        '/v1/orgs/:orgId/projects/:projectId/held-tasks',
        { config: { access: { organizationRole: 'member' } } },
        async (request, reply) => {
          if (holding) await new Promise<void>((open) => gates.push(open))
          const tenant = request.tenant as NonNullable<typeof request.tenant>
          const { projectId } = request.params as { projectId: string }
          const { title } = request.body as { title: string }
          const task = await appCore.createTask(app.deps, tenant, { projectId, task: { title } })
          return reply.code(201).send({ id: task.id, title: task.title })
        },
      )
      // Marked to claim its key with its write (ADR 046), but answers with reply.send: a
      // route bug that would leave the key unclaimed.
      app.post(
        '/v1/orgs/:orgId/in-write-without-send',
        { config: { access: { organizationRole: 'member' }, idempotency: 'in-write' } },
        async (_request, reply) => reply.code(201).send({ ok: true }),
      )
    },
  )
  baseUrl = await server.listen({ host: '127.0.0.1', port: 0 })
})
afterAll(() => server?.close())

const countProjects = async (orgId: string, name: string) =>
  (
    (await sql('SELECT count(*)::int AS n FROM projects WHERE organization_id = $1 AND name = $2', [
      orgId,
      name,
    ])) as [{ n: number }]
  )[0].n

describe('Idempotency-Key', () => {
  it('replays the first answer to a sequential retry: one row, same body and headers', async () => {
    const { headers, orgId } = await signUpOwner(server)
    const send = () =>
      server.inject({
        method: 'POST',
        url: `/v1/orgs/${orgId}/projects`,
        headers: { ...headers, 'idempotency-key': 'create-launch-1' },
        payload: { name: 'Launch' },
      })
    const first = await send()
    expect(first.statusCode).toBe(201)
    expect(first.headers['idempotent-replayed']).toBeUndefined()
    for (let i = 0; i < 3; i++) {
      const retry = await send()
      expect(retry.statusCode).toBe(201)
      expect(retry.body).toBe(first.body)
      expect(retry.headers).toMatchObject({
        'idempotent-replayed': 'true',
        etag: first.headers.etag,
        location: first.headers.location,
      })
      expect(retry.headers['content-type']).toContain('application/json')
    }
    expect(await countProjects(orgId, 'Launch')).toBe(1)
  })

  it("fails an 'in-write' route that answers without sendWithWrite outside production: its key was never claimed", async () => {
    const { headers, orgId } = await signUpOwner(server)
    const url = `/v1/orgs/${orgId}/in-write-without-send`
    const send = (key?: string) =>
      server.inject({
        method: 'POST',
        url,
        headers: key ? { ...headers, 'idempotency-key': key } : headers,
        payload: {},
      })
    const keyed = await send('never-claimed')
    expect(keyed.statusCode).toBe(500)
    expect(keyed.headers['content-type']).toContain('application/problem+json')
    // Nothing was claimed for a retry to meet: it fails the same way, not 409 or a replay.
    expect((await send('never-claimed')).statusCode).toBe(500)
    // Without a key there is nothing to claim: the route answers.
    const unkeyed = await send()
    expect(unkeyed.statusCode).toBe(201)
  })

  it('refuses the same key with another request (422), and does nothing for it', async () => {
    const { headers, orgId } = await signUpOwner(server)
    const send = (name: string) =>
      server.inject({
        method: 'POST',
        url: `/v1/orgs/${orgId}/projects`,
        headers: { ...headers, 'idempotency-key': 'same-key' },
        payload: { name },
      })
    expect((await send('First')).statusCode).toBe(201)
    const other = await send('Second')
    expect(other.statusCode).toBe(422)
    expect(other.headers['content-type']).toContain('application/problem+json')
    expect(other.json().detail).toContain('different request')
    expect(await countProjects(orgId, 'Second')).toBe(0)
  })

  it('answers 409 to truly concurrent duplicates while the first runs: one effect', async () => {
    const { headers, orgId } = await signUpOwner(server)
    const send = () =>
      fetch(`${baseUrl}/v1/orgs/${orgId}/projects`, {
        method: 'POST',
        headers: { ...headers, 'content-type': 'application/json', 'idempotency-key': 'race' },
        body: JSON.stringify({ name: 'Raced' }),
      })
    // The real route, held up by a lock, so the duplicates really overlap the first request.
    const locker = new pg.Client({ connectionString: services().database.url })
    await locker.connect()
    await locker.query('BEGIN; LOCK TABLE projects IN SHARE MODE')
    let answered = 0
    const sent = Promise.all(
      Array.from({ length: 8 }, () =>
        send().then((response) => {
          answered++
          return response
        }),
      ),
    )
    // The request that claimed the key waits for the lock inside its transaction; the
    // seven others meet the key in use and are answered meanwhile.
    await expect.poll(() => answered, { timeout: 10_000 }).toBe(7)
    await locker.query('COMMIT')
    await locker.end()
    const answers = await sent
    const codes = answers.map((r) => r.status).sort()
    expect(codes).toEqual([201, 409, 409, 409, 409, 409, 409, 409])
    const busy = answers.find((r) => r.status === 409) as Response
    expect(busy.headers.get('retry-after')).toBe('1')
    expect(busy.headers.get('content-type')).toContain('application/problem+json')
    expect(await countProjects(orgId, 'Raced')).toBe(1)
    // Once it is done, a retry gets its answer.
    const created = (await answers.find((r) => r.status === 201)?.json()) as { id: string }
    const later = await send()
    expect(later.status).toBe(201)
    expect(later.headers.get('idempotent-replayed')).toBe('true')
    expect(await later.json()).toEqual(created)
  })

  it('replays a PATCH that succeeded, instead of failing its retry on the new version', async () => {
    const { headers, orgId } = await signUpOwner(server)
    const project = (
      await server.inject({
        method: 'POST',
        url: `/v1/orgs/${orgId}/projects`,
        headers,
        payload: { name: 'Patched' },
      })
    ).json()
    const patch = () =>
      server.inject({
        method: 'PATCH',
        url: `/v1/orgs/${orgId}/projects/${project.id}`,
        headers: { ...headers, 'if-match': '"1"', 'idempotency-key': 'rename-once' },
        payload: { description: 'once' },
      })
    const first = await patch()
    expect(first.json().version).toBe(2)
    const retry = await patch()
    expect(retry.statusCode).toBe(200)
    expect(retry.json().version).toBe(2)
    expect(retry.headers.etag).toBe('"2"')
  })

  it('is scoped to the caller and the route', async () => {
    const a = await signUpOwner(server)
    const b = await signUpOwner(server)
    const post = (who: typeof a, url: string, name: string) =>
      server.inject({
        method: 'POST',
        url,
        headers: { ...who.headers, 'idempotency-key': 'shared-key' },
        payload: { name },
      })
    expect((await post(a, `/v1/orgs/${a.orgId}/projects`, 'Mine')).statusCode).toBe(201)
    expect((await post(b, `/v1/orgs/${b.orgId}/projects`, 'Mine')).statusCode).toBe(201)
    const project = (
      await server.inject({ url: `/v1/orgs/${a.orgId}/projects`, headers: a.headers })
    ).json().data[0]
    const task = await post(a, `/v1/orgs/${a.orgId}/projects/${project.id}/tasks`, 'x')
    expect(task.statusCode).toBe(400) // reached the route: tasks have a title, not a name
    expect(await countProjects(a.orgId, 'Mine')).toBe(1)
    expect(await countProjects(b.orgId, 'Mine')).toBe(1)
  })

  it('releases the key when the request fails, so the same request can be retried', async () => {
    const { headers, orgId } = await signUpOwner(server)
    const taken = (
      await server.inject({
        method: 'POST',
        url: `/v1/orgs/${orgId}/projects`,
        headers,
        payload: { name: 'Taken' },
      })
    ).json()
    const send = () =>
      server.inject({
        method: 'POST',
        url: `/v1/orgs/${orgId}/projects`,
        headers: { ...headers, 'idempotency-key': 'after-conflict' },
        payload: { name: 'Taken' },
      })
    expect((await send()).statusCode).toBe(409)
    expect((await send()).statusCode).toBe(409)
    await server.inject({
      method: 'DELETE',
      url: `/v1/orgs/${orgId}/projects/${taken.id}`,
      headers,
    })
    const third = await send()
    expect(third.statusCode).toBe(201)
    expect(third.headers['idempotent-replayed']).toBeUndefined()
  })

  it('never runs again a request that died after its commit: one task, even without a natural key', async () => {
    const { headers, orgId } = await signUpOwner(server)
    const project = (
      await server.inject({
        method: 'POST',
        url: `/v1/orgs/${orgId}/projects`,
        headers,
        payload: { name: 'Crash site' },
      })
    ).json()
    const tasksUrl = `/v1/orgs/${orgId}/projects/${project.id}/tasks`
    const send = () =>
      server.inject({
        method: 'POST',
        url: tasksUrl,
        headers: { ...headers, 'idempotency-key': 'crashed' },
        payload: { title: 'Exactly once' },
      })
    expect((await send()).statusCode).toBe(201)
    const marked = (await sql(
      'SELECT effect_committed_at FROM idempotency_keys WHERE organization_id = $1',
      [orgId],
    )) as Array<{ effect_committed_at: Date | null }>
    expect(marked).toHaveLength(1)
    expect(marked[0]?.effect_committed_at).toBeInstanceOf(Date)
    // As if the process died after the commit and before storing the answer.
    const unanswered = `UPDATE idempotency_keys SET response_status = NULL, response_body = NULL, response_headers = NULL, locked_until = now() + $2::interval WHERE organization_id = $1`
    await sql(unanswered, [orgId, '1 minute'])
    expect((await send()).statusCode).toBe(409) // still locked: in progress
    await sql(unanswered, [orgId, '-1 second'])
    const lost = await send()
    expect(lost.statusCode).toBe(409)
    expect(lost.json().type).toBe('urn:groundwork:problem:idempotency_answer_lost')
    const count = async () =>
      (
        (await sql('SELECT count(*)::int AS n FROM tasks WHERE project_id = $1', [project.id])) as [
          { n: number },
        ]
      )[0].n
    expect(await count()).toBe(1)

    // Died before its commit: nothing happened, so a retry takes the claim over and runs.
    await sql('DELETE FROM tasks WHERE project_id = $1', [project.id])
    await sql(`${unanswered.replace('SET ', 'SET effect_committed_at = NULL, ')}`, [
      orgId,
      '-1 second',
    ])
    const rerun = await send()
    expect(rerun.statusCode).toBe(201)
    expect(await count()).toBe(1)
  })

  it('replays the failure of a request that committed its change, instead of running it again', async () => {
    // At the level of the functions the plugin calls (routes fail before committing).
    const { orgId, userId } = await signUpOwner(server)
    const tenant = { organizationId: orgId, userId }
    const claimFor = () =>
      claimIdempotencyKey(server.deps, {
        scope: { organizationId: orgId, principal: `user:${userId}`, route: 'POST /x', key: 'k' },
        requestHash: 'a'.repeat(64),
        lockMs: 60_000,
        ttlMs: 3_600_000,
      })
    const failure = { status: 503, headers: { 'content-type': 'application/json' }, body: '{}' }

    // The change rolls back: nothing happened, the key is freed for a retry.
    const first = await claimFor()
    if (first.outcome !== 'claimed') throw new Error('expected a claim')
    await expect(
      runHoldingClaim(first.claim, () =>
        withTenant(server.deps.db, tenant, async (tx) => {
          await tx.project.create({ data: { organizationId: orgId, name: 'Rolled back' } })
          throw new Error('later step failed')
        }),
      ),
    ).rejects.toThrow('later step failed')
    await releaseIdempotencyKey(server.deps, { claim: first.claim, response: failure })

    // The change commits, then the request fails: its answer is kept, not re-run.
    const second = await claimFor()
    if (second.outcome !== 'claimed') throw new Error('expected the freed key to be claimed')
    await appDb.runHoldingClaim(second.claim, () =>
      appCore.createProject(server.deps, tenant, { name: 'Half done' }),
    )
    await releaseIdempotencyKey(server.deps, { claim: second.claim, response: failure })
    const third = await claimFor()
    expect(third).toMatchObject({ outcome: 'replay', response: { status: 503 } })
    expect(await countProjects(orgId, 'Half done')).toBe(1)
    expect(await countProjects(orgId, 'Rolled back')).toBe(0)
  })

  it('never replays an answer that held a secret, and checks recent sign-in before any replay', async () => {
    const { headers, orgId, userId } = await signUpOwner(server)
    await sql('UPDATE users SET email_verified_at = now() WHERE id = $1', [userId])
    const create = () =>
      server.inject({
        method: 'POST',
        url: `/v1/orgs/${orgId}/api-keys`,
        headers: { ...headers, 'idempotency-key': 'new-key-once' },
        payload: { name: 'CI', scopes: ['projects:read'] },
      })
    const first = await create()
    expect(first.statusCode).toBe(201)
    const secret = first.json().key as string
    // The retry learns it succeeded, and gets neither the secret nor a second key.
    const retry = await create()
    expect(retry.statusCode).toBe(409)
    expect(retry.json().type).toBe('urn:groundwork:problem:idempotent_secret_shown_once')
    expect(retry.body).not.toContain(secret)
    expect(
      await sql('SELECT count(*)::int AS n FROM api_keys WHERE organization_id = $1', [orgId]),
    ).toEqual([{ n: 1 }])
    // A session that is no longer recent is refused before anything is replayed.
    await sql(
      "UPDATE sessions SET created_at = now() - interval '11 minutes', mfa_verified_at = NULL WHERE user_id = $1",
      [userId],
    )
    const stale = await create()
    expect(stale.statusCode).toBe(403)
    expect(stale.json().type).toBe('urn:groundwork:problem:step_up_required')
  })

  // Every other route whose answer holds a secret shown once (answerHoldsSecret).
  const PUBLIC_URL = 'https://93.184.215.14/hooks/groundwork'
  const verifiedOwner = async () => {
    const owner = await signUpOwner(server)
    await sql('UPDATE users SET email_verified_at = now() WHERE id = $1', [owner.userId])
    return owner
  }
  const endpointOf = async (owner: Awaited<ReturnType<typeof verifiedOwner>>) =>
    (
      await server.inject({
        method: 'POST',
        url: `/v1/orgs/${owner.orgId}/webhook-endpoints`,
        headers: owner.headers,
        payload: { url: PUBLIC_URL, events: ['project.created'] },
      })
    ).json().id as string
  const secretRoutes: Array<
    [
      string,
      () => Promise<{
        request: { method: 'POST'; url: string; headers?: Record<string, string>; payload?: object }
        status: number
        secrets: (body: Record<string, string>) => string[]
        effects: () => Promise<number>
      }>,
    ]
  > = [
    [
      'webhook endpoint creation',
      async () => {
        const owner = await verifiedOwner()
        return {
          request: {
            method: 'POST',
            url: `/v1/orgs/${owner.orgId}/webhook-endpoints`,
            headers: owner.headers,
            payload: { url: PUBLIC_URL, events: ['project.created'] },
          },
          status: 201,
          secrets: (body) => [body.secret as string],
          effects: async () =>
            (
              await sql(
                'SELECT count(*)::int AS n FROM webhook_endpoints WHERE organization_id = $1',
                [owner.orgId],
              )
            )[0].n,
        }
      },
    ],
    [
      'webhook secret rotation',
      async () => {
        const owner = await verifiedOwner()
        const endpointId = await endpointOf(owner)
        return {
          request: {
            method: 'POST',
            url: `/v1/orgs/${owner.orgId}/webhook-endpoints/${endpointId}/rotate-secret`,
            headers: owner.headers,
          },
          status: 200,
          secrets: (body) => [body.secret as string],
          // Rotations so far: versions past the first.
          effects: async () =>
            (await sql('SELECT version FROM webhook_endpoints WHERE id = $1', [endpointId]))[0]
              .version - 1,
        }
      },
    ],
    [
      'OAuth start',
      async () => ({
        request: { method: 'POST', url: '/v1/auth/oauth/github/start' },
        status: 200,
        secrets: (body) => [
          body.binding as string,
          new URL(body.authorizationUrl as string).searchParams.get('state') as string,
        ],
        // Flows started: their states, kept in Redis (this file's alone).
        effects: async () => {
          const redis = new Redis(services().redis.url)
          try {
            return (await redis.keys('groundwork:oauth:*')).length
          } finally {
            redis.disconnect()
          }
        },
      }),
    ],
  ]

  it.each(secretRoutes)(
    'answers a replayed %s 409 idempotent_secret_shown_once, never the secret',
    async (_name, prepare) => {
      const { request, status, secrets, effects } = await prepare()
      const key = `secret-${crypto.randomUUID()}`
      const keyed = () =>
        server.inject({ ...request, headers: { ...request.headers, 'idempotency-key': key } })
      const first = await keyed()
      expect(first.statusCode, first.body).toBe(status)
      const shown = secrets(first.json())
      for (const secret of shown) expect(secret).toMatch(/^\S{16,}/)
      const retry = await keyed()
      expect(retry.statusCode).toBe(409)
      expect(retry.json().type).toBe('urn:groundwork:problem:idempotent_secret_shown_once')
      for (const secret of shown) expect(retry.body).not.toContain(secret)
      expect(await effects()).toBe(1)
    },
  )

  it('rolls back the change of a request whose claim a retry took over: one effect', async () => {
    const { orgId, userId } = await signUpOwner(server)
    const claim = await claimIdempotencyKey(server.deps, {
      scope: { organizationId: orgId, principal: `user:${userId}`, route: 'test', key: 'slow' },
      requestHash: 'h',
      lockMs: 60_000,
      ttlMs: 3_600_000,
    })
    if (claim.outcome !== 'claimed') throw new Error('expected a claim')
    // This request ran past its lock, and a retry took the key over meanwhile.
    await sql(
      "UPDATE idempotency_keys SET locked_until = now() + interval '5 minutes' WHERE organization_id = $1",
      [orgId],
    )
    await expect(
      appDb.runHoldingClaim(claim.claim, () =>
        appCore.createProject(server.deps, { organizationId: orgId, userId }, { name: 'Twice?' }),
      ),
    ).rejects.toThrow(appDb.ClaimLostError)
    expect(await countProjects(orgId, 'Twice?')).toBe(0)
  })

  describe('a request that outlives its claim, taken over by a retry', () => {
    /** A request with a key, held in its handler, and its retry, which took the key over, held too. */
    async function takeover() {
      const { headers, orgId } = await signUpOwner(server)
      const project = (
        await server.inject({
          method: 'POST',
          url: `/v1/orgs/${orgId}/projects`,
          headers,
          payload: { name: 'Held tasks' },
        })
      ).json()
      const key = `held-${crypto.randomUUID()}`
      const send = () =>
        server.inject({
          method: 'POST',
          url: `/v1/orgs/${orgId}/projects/${project.id}/held-tasks`,
          headers: { ...headers, 'idempotency-key': key },
          payload: { title: 'Held' },
        })
      gates.length = 0
      holding = true
      const first = send()
      await expect.poll(() => gates.length).toBe(1)
      // Its claim's lock (the request timeout plus 5 s) runs out: the server's clock moves
      // past it, so a retry may take the key over, as after a request that hung.
      vi.useFakeTimers({ toFake: ['Date'], shouldAdvanceTime: true })
      let second: ReturnType<typeof send>
      try {
        vi.setSystemTime(Date.now() + server.config.REQUEST_TIMEOUT_MS + 60_000)
        second = send()
        await expect.poll(() => gates.length).toBe(2)
      } finally {
        vi.useRealTimers()
      }
      const [openFirst, openSecond] = gates as [() => void, () => void]
      return {
        /** The first request goes on; its answer. */
        finishFirst: () => {
          openFirst()
          return first
        },
        /** The retry goes on; its answer. */
        finishSecond: () => {
          openSecond()
          return second
        },
        /** The same request again, run at once should it reach the handler. */
        again: () => {
          holding = false
          return send()
        },
        tasks: async () =>
          (await sql('SELECT count(*)::int AS n FROM tasks WHERE project_id = $1', [project.id]))[0]
            .n,
      }
    }
    const claimLost = 'urn:groundwork:problem:idempotency_claim_lost'

    it("keeps the retry's stored answer when the first request ends after it", async () => {
      const { finishFirst, finishSecond, again, tasks } = await takeover()
      const second = await finishSecond()
      expect(second.statusCode).toBe(201)
      // The first request's change rolls back (its claim is gone), and it stores nothing
      // over the retry's answer.
      const first = await finishFirst()
      expect(first.statusCode).toBe(409)
      expect(first.json().type).toBe(claimLost)
      const replay = await again()
      expect(replay.statusCode).toBe(201)
      expect(replay.headers['idempotent-replayed']).toBe('true')
      expect(replay.body).toBe(second.body)
      expect(await tasks()).toBe(1)
    })

    it("neither frees nor answers the retry's claim when the first request ends while the retry runs", async () => {
      const { finishFirst, finishSecond, again, tasks } = await takeover()
      const first = await finishFirst()
      expect(first.statusCode).toBe(409)
      expect(first.json().type).toBe(claimLost)
      // The retry still holds the key: another duplicate is told it is in use.
      const meanwhile = await again()
      expect(meanwhile.statusCode).toBe(409)
      expect(meanwhile.json().type).toBe('urn:groundwork:problem:idempotency_key_in_use')
      const second = await finishSecond()
      expect(second.statusCode).toBe(201)
      const replay = await again()
      expect(replay.statusCode).toBe(201)
      expect(replay.headers['idempotent-replayed']).toBe('true')
      expect(replay.body).toBe(second.body)
      expect(await tasks()).toBe(1)
    })
  })

  it('releases an expired key it took over when the new request fails, though the old one had committed', async () => {
    const { headers, orgId } = await signUpOwner(server)
    const send = (name: string) =>
      server.inject({
        method: 'POST',
        url: `/v1/orgs/${orgId}/projects`,
        headers: { ...headers, 'idempotency-key': 'expired-then-failed' },
        payload: { name },
      })
    expect((await send('Kept')).statusCode).toBe(201)
    const taken = await send('Taken elsewhere')
    expect(taken.statusCode).toBe(422) // the same key, another request
    await sql("UPDATE idempotency_keys SET expires_at = now() - interval '1 second'")
    // Another request takes the name first; the expired key's new request then fails.
    const other = await server.inject({
      method: 'POST',
      url: `/v1/orgs/${orgId}/projects`,
      headers,
      payload: { name: 'Taken elsewhere' },
    })
    expect(other.statusCode).toBe(201)
    expect((await send('Taken elsewhere')).statusCode).toBe(409)
    // Released, not stored: once the name is free, the same request runs and succeeds.
    await sql('DELETE FROM projects WHERE organization_id = $1 AND name = $2', [
      orgId,
      'Taken elsewhere',
    ])
    const retried = await send('Taken elsewhere')
    expect(retried.statusCode, retried.body).toBe(201)
    expect(retried.headers['idempotent-replayed']).toBeUndefined()
    expect(await countProjects(orgId, 'Taken elsewhere')).toBe(1)
  })

  it('treats an expired key as new, and purges expired keys of every organization', async () => {
    const { headers, orgId } = await signUpOwner(server)
    const send = (name: string) =>
      server.inject({
        method: 'POST',
        url: `/v1/orgs/${orgId}/projects`,
        headers: { ...headers, 'idempotency-key': 'old-key' },
        payload: { name },
      })
    expect((await send('Before')).statusCode).toBe(201)
    await sql("UPDATE idempotency_keys SET expires_at = now() - interval '1 second'")
    expect((await send('After')).statusCode).toBe(201)
    const other = await signUpOwner(server)
    await server.inject({
      method: 'POST',
      url: `/v1/orgs/${other.orgId}/projects`,
      headers: { ...other.headers, 'idempotency-key': 'other' },
      payload: { name: 'Other' },
    })
    await sql("UPDATE idempotency_keys SET expires_at = now() - interval '1 second'")
    const before = (await sql('SELECT count(*)::int AS n FROM idempotency_keys')) as [{ n: number }]
    // Through the application's own login, which cannot otherwise see across tenants.
    expect(await purgeExpiredIdempotencyKeys(server.deps)).toBe(before[0].n)
    expect(await sql('SELECT id FROM idempotency_keys')).toEqual([])
  })

  it('seals stored answers and hides them from the application login without the key', async () => {
    const { headers, orgId } = await signUpOwner(server)
    await sql('UPDATE users SET email_verified_at = now()')
    const created = await server.inject({
      method: 'POST',
      url: `/v1/orgs/${orgId}/api-keys`,
      headers: { ...headers, 'idempotency-key': 'new-api-key' },
      payload: { name: 'ci', scopes: ['projects:read'] },
    })
    expect(created.statusCode).toBe(201)
    const { key } = created.json()
    const rows = (await sql(
      "SELECT encode(response_body, 'escape') AS body FROM idempotency_keys WHERE organization_id = $1",
      [orgId],
    )) as Array<{ body: string }>
    expect(rows).toHaveLength(1)
    expect(rows[0]?.body).not.toContain(key.slice(-20))
    expect(rows[0]?.body).not.toContain('"name"')
    const visible = await ownerQuery(
      services().database.appUrl,
      'SELECT count(*)::int AS n FROM idempotency_keys',
    )
    expect(visible).toEqual([{ n: 0 }])
  })

  it('works before sign-in too, scoped to the client address', async () => {
    const { userId } = await signUpOwner(server)
    const [{ email }] = (await sql('SELECT email FROM users WHERE id = $1', [userId])) as [
      { email: string },
    ]
    const reset = (ip: string) =>
      server.inject({
        method: 'POST',
        url: '/v1/auth/password-reset',
        headers: { 'idempotency-key': 'reset-once' },
        payload: { email },
        remoteAddress: ip,
      })
    const first = await reset('10.9.0.1')
    expect(first.statusCode).toBe(202)
    const retry = await reset('10.9.0.1')
    expect(retry.headers['idempotent-replayed']).toBe('true')
    // Someone else who happens to pick the same key is not answered from the first caller's.
    const stranger = await reset('10.9.0.2')
    expect(stranger.statusCode).toBe(202)
    expect(stranger.headers['idempotent-replayed']).toBeUndefined()
    // The route answers before the reset is recorded (timing reveals no account): wait for it.
    await expect
      .poll(() => sql('SELECT id FROM password_resets WHERE user_id = $1', [userId]))
      .toHaveLength(2)
  })

  it('is not stored for routes that answer with a credential: each sign-in is its own', async () => {
    const email = `cred-${crypto.randomUUID()}@example.com`
    const password = 'correct horse battery staple'
    await server.inject({
      method: 'POST',
      url: '/v1/auth/sign-up',
      payload: { email, password, name: 'Cred' },
    })
    const signIn = () =>
      server.inject({
        method: 'POST',
        url: '/v1/auth/sign-in',
        headers: { 'idempotency-key': 'sign-in-once' },
        payload: { email, password },
      })
    const first = await signIn()
    await server.inject({
      method: 'POST',
      url: '/v1/auth/sign-out',
      headers: { authorization: `Bearer ${first.json().token}` },
    })
    // A replay would hand back the signed-out (dead) token; a fresh sign-in is right.
    const second = await signIn()
    expect(second.statusCode).toBe(200)
    expect(second.headers['idempotent-replayed']).toBeUndefined()
    expect(second.json().token).not.toBe(first.json().token)
    const me = await server.inject({
      url: '/v1/auth/me',
      headers: { authorization: `Bearer ${second.json().token}` },
    })
    expect(me.statusCode).toBe(200)
  })

  it('replays a DELETE that succeeded, instead of a 404 on the retry', async () => {
    const { headers, orgId } = await signUpOwner(server)
    const project = (
      await server.inject({
        method: 'POST',
        url: `/v1/orgs/${orgId}/projects`,
        headers,
        payload: { name: 'Deleted once' },
      })
    ).json()
    const remove = () =>
      server.inject({
        method: 'DELETE',
        url: `/v1/orgs/${orgId}/projects/${project.id}`,
        headers: { ...headers, 'idempotency-key': 'delete-once' },
      })
    expect((await remove()).statusCode).toBe(204)
    const retry = await remove()
    expect(retry.statusCode).toBe(204)
    expect(retry.headers['idempotent-replayed']).toBe('true')
  })

  it('refuses malformed keys with the header named', async () => {
    const { headers, orgId } = await signUpOwner(server)
    for (const key of ['x'.repeat(256), 'with space', 'ключ']) {
      const res = await server.inject({
        method: 'POST',
        url: `/v1/orgs/${orgId}/projects`,
        headers: { ...headers, 'idempotency-key': key },
        payload: { name: 'Never' },
      })
      expect(res.statusCode, key).toBe(400)
      expect(JSON.stringify(res.json().errors)).toContain('idempotency-key')
    }
    expect(await countProjects(orgId, 'Never')).toBe(0)
  })

  it('is documented on every POST, PATCH and DELETE except the credential routes', async () => {
    const doc = (await server.inject({ url: '/openapi.json' })).json()
    const credentialRoutes = [
      'post /v1/auth/sign-up',
      'post /v1/auth/sign-in',
      'post /v1/auth/password',
      'post /v1/auth/mfa/totp/confirm',
      'post /v1/auth/mfa/verify',
      'post /v1/auth/oauth/{provider}/callback',
      // A single-use link into the queue dashboard: a fresh credential each time.
      'post /v1/admin/queue-dashboard/links',
      // Stripe's own event ids dedupe its retries.
      'post /v1/webhooks/stripe',
    ]
    let documented = 0
    for (const [path, operations] of Object.entries<Record<string, { parameters?: object[] }>>(
      doc.paths,
    )) {
      for (const [method, operation] of Object.entries(operations)) {
        if (!['post', 'patch', 'delete'].includes(method)) continue
        const has = JSON.stringify(operation.parameters ?? []).includes('idempotency-key')
        expect(has, `${method} ${path}`).toBe(!credentialRoutes.includes(`${method} ${path}`))
        if (has) documented++
      }
    }
    expect(documented).toBeGreaterThan(20)
  })
})
