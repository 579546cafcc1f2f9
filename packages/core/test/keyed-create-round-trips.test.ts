import { randomUUID } from 'node:crypto'
import {
  createDatabaseClient,
  databaseErrorState,
  Prisma,
  type PrismaClient,
  runClaimingKeyInWrite,
  runHoldingClaim,
  withTenant,
  writeWithTenant,
} from '@repo/db'
import { useIsolatedServices } from '@repo/testing'
import pg from 'pg'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { clientConfig, seedTwoTenants } from '../../db/test/catalog.ts'
import { startWireRecorder, type WireRecorder } from '../../db/test/wire-recorder.ts'
import type { CoreDeps } from '../src/context.ts'
import { createProject, insertProject, newProject } from '../src/create-project.ts'
import {
  claimIdempotencyKey,
  completeIdempotencyKey,
  hashIdempotencyScope,
  hashIdempotentRequest,
  keyWithAnswer,
  releaseIdempotencyKey,
} from '../src/idempotency.ts'

// A create with an Idempotency-Key (ADR 009), counted on the wire: claiming the key and
// storing the answer are one statement each, sent on their own (ADR 041), and the create
// is one pipeline, the organization's lock and project count taken after the insert
// (ADR 045). The counts
// are the contract: a change that adds a round trip to every keyed write shows here. The
// lock reads the organization's project count, kept by triggers (ADR 044).

const services = useIsolatedServices()
const SECRETS_KEY = Buffer.alloc(32, 7)
let recorder: WireRecorder
let admin: PrismaClient
let app: PrismaClient
let deps: CoreDeps
let organizationId: string
let userId: string

beforeAll(async () => {
  const { database } = services()
  recorder = await startWireRecorder(database.appUrl)
  admin = createDatabaseClient(clientConfig(database.url))
  app = createDatabaseClient(clientConfig(recorder.url(database.appUrl)))
  // What createProject and the idempotency functions read of the dependencies.
  deps = {
    db: app,
    secretsKey: SECRETS_KEY,
    quotas: { projectsPerOrganization: 20, tasksPerProject: 10 },
  } as CoreDeps
  const ids = { orgA: randomUUID(), orgB: randomUUID(), alice: randomUUID(), bob: randomUUID() }
  await seedTwoTenants(admin, ids)
  organizationId = ids.orgA
  userId = ids.alice
  await app.$queryRaw`SELECT 1`
})
afterAll(async () => {
  await Promise.all([app?.$disconnect(), admin?.$disconnect()])
  await recorder?.close()
})
beforeEach(() => recorder.clear())

const scope = (key: string) => ({
  organizationId,
  principal: `user:${userId}`,
  route: 'POST /v1/orgs/:orgId/projects',
  key,
})
const claim = (key: string, body: unknown) =>
  claimIdempotencyKey(deps, {
    scope: scope(key),
    requestHash: hashIdempotentRequest(SECRETS_KEY, ['/projects', null, body]),
    lockMs: 30_000,
    ttlMs: 3_600_000,
  })
const sent = () => recorder.roundTrips.map((trip) => trip.sql)

describe('a keyed create', () => {
  it('claims in one round trip, creates in one, stores its answer in one; a retry replays in one', async () => {
    const body = { name: 'Counted' }
    const claimed = await claim('counted', body)
    if (claimed.outcome !== 'claimed') throw new Error('expected a claim')
    expect(sent()).toEqual([expect.stringContaining('app_claim_idempotency_key')])

    recorder.clear()
    const project = await runHoldingClaim(claimed.claim, () =>
      createProject(deps, { organizationId, userId }, body),
    )
    // The settings, the insert, the webhook event's conditional outbox row, the quota and
    // the claim's mark: one pipeline, one Sync (ADR 045).
    expect(recorder.roundTrips).toHaveLength(1)
    expect(sent()[0]?.split('; ')).toEqual([
      expect.stringMatching(/^SELECT set_config\('app.organization_id'/),
      expect.stringContaining('INSERT INTO projects'),
      expect.stringContaining('INSERT INTO outbox_messages'),
      expect.stringContaining('app_take_project_quota'),
      expect.stringContaining('app_require_idempotency_effect'),
    ])
    // Committed at the Sync, and counted by the organization's trigger (ADR 044).
    expect(await admin.project.findUnique({ where: { id: project.id } })).toEqual(project)
    const [org] = await admin.$queryRaw<[{ count: number }]>`
      SELECT project_count AS count FROM organizations WHERE id = ${organizationId}::uuid`
    expect(org.count).toBe(await admin.project.count({ where: { organizationId } }))
    const [key] = await admin.$queryRaw<[{ committed: Date | null }]>`
      SELECT effect_committed_at AS committed FROM idempotency_keys
      WHERE scope_hash = ${hashIdempotencyScope(scope('counted'))}`
    expect(key.committed).toBeInstanceOf(Date)

    recorder.clear()
    const answer = { status: 201, headers: {}, body: JSON.stringify({ id: project.id }) }
    await completeIdempotencyKey(deps, { claim: claimed.claim, response: answer })
    expect(sent()).toEqual([expect.stringContaining('app_store_idempotency_answer')])

    recorder.clear()
    expect(await claim('counted', body)).toEqual({ outcome: 'replay', response: answer })
    expect(sent()).toHaveLength(1)
  })

  it('frees the key of a request that changed nothing, in one round trip', async () => {
    const claimed = await claim('refused', { name: 'Nothing' })
    if (claimed.outcome !== 'claimed') throw new Error('expected a claim')
    // Read as the owner login, which row-level security does not restrict.
    const rows = () =>
      admin.idempotencyKey.count({ where: { scopeHash: hashIdempotencyScope(scope('refused')) } })
    expect(await rows()).toBe(1)
    recorder.clear()
    const answer = { status: 400, headers: {}, body: '{}' }
    await releaseIdempotencyKey(deps, { claim: claimed.claim, response: answer })
    expect(sent()).toEqual([expect.stringContaining('app_release_idempotency_key')])
    expect(await rows()).toBe(0)
    // Freed: the same request claims the key again.
    expect((await claim('refused', { name: 'Nothing' })).outcome).toBe('claimed')
  })
})

describe('a keyed create that claims its key in its write (ADR 046)', () => {
  const input = (key: string, body: unknown) => ({
    scope: scope(key),
    requestHash: hashIdempotentRequest(SECRETS_KEY, ['/projects', null, body]),
    lockMs: 30_000,
    ttlMs: 3_600_000,
  })
  const answerOf = (id: string) => ({
    status: 201,
    headers: { 'content-type': 'application/json; charset=utf-8', etag: '"1"' },
    body: JSON.stringify({ id }),
  })
  /** The route's flow: the project and its answer first, then the one write. */
  const createClaiming = (key: string, name: string) => {
    const project = newProject({ organizationId, userId }, { name })
    return {
      project,
      run: runClaimingKeyInWrite(
        keyWithAnswer(deps, input(key, { name }), answerOf(project.id)),
        () => insertProject(deps, { organizationId, userId }, project),
      ),
    }
  }
  const keyRow = (key: string) =>
    admin.idempotencyKey.findUnique({ where: { scopeHash: hashIdempotencyScope(scope(key)) } })

  it('claims the key, creates and stores the answer in ONE round trip; a retry replays it', async () => {
    const { project, run } = createClaiming('in-write', 'In one trip')
    await run
    expect(recorder.roundTrips).toHaveLength(1)
    expect(sent()[0]?.split('; ')).toEqual([
      expect.stringMatching(/^SELECT set_config\('app.organization_id'/),
      expect.stringContaining('app_claim_idempotency_key_with_answer'),
      expect.stringContaining('INSERT INTO projects'),
      expect.stringContaining('INSERT INTO outbox_messages'),
      expect.stringContaining('app_take_project_quota'),
    ])
    expect(await admin.project.findUnique({ where: { id: project.id } })).toEqual(project)
    const row = await keyRow('in-write')
    expect(row?.effectCommittedAt).toBeInstanceOf(Date)
    expect(row?.responseStatus).toBe(201)
    // Sealed: the stored body is not the answer's text.
    expect(Buffer.from(row?.responseBody ?? []).toString('utf8')).not.toContain(project.id)
    recorder.clear()
    expect(await claim('in-write', { name: 'In one trip' })).toEqual({
      outcome: 'replay',
      response: answerOf(project.id),
    })
    expect(sent()).toHaveLength(1)
    // A second write that claims the same key rolls back and says the key is known.
    const again = createClaiming('in-write', 'In one trip, twice?')
    await expect(again.run).rejects.toMatchObject({ name: 'KeyKnownError', inProgress: false })
    expect(await admin.project.findUnique({ where: { id: again.project.id } })).toBeNull()
  })

  it('leaves no key behind when the write is refused, so the same request can run again', async () => {
    await createClaiming('taken-name', 'Taken').run
    const refused = createClaiming('after-taken', 'Taken')
    await expect(refused.run.catch(databaseErrorState)).resolves.toBe('23505')
    expect(await keyRow('after-taken')).toBeNull()
    // The same key, a free name: claimed by its write, as if never used.
    await createClaiming('after-taken', 'Not taken').run
    expect((await keyRow('after-taken'))?.responseStatus).toBe(201)
  })

  it('answers a duplicate at once while another write claims the key: in progress, nothing written', async () => {
    // Another request's write holds the key's advisory lock (as the function takes it).
    const holder = new pg.Client({ connectionString: services().database.appUrl })
    await holder.connect()
    try {
      await holder.query('BEGIN')
      await holder.query(
        "SELECT pg_advisory_xact_lock(hashtext('idempotency_keys'), ('x' || left($1, 8))::bit(32)::integer)",
        [hashIdempotencyScope(scope('busy'))],
      )
      const started = Date.now()
      const duplicate = createClaiming('busy', 'Busy')
      await expect(duplicate.run).rejects.toMatchObject({ name: 'KeyKnownError', inProgress: true })
      expect(Date.now() - started).toBeLessThan(2_000)
      expect(await admin.project.findUnique({ where: { id: duplicate.project.id } })).toBeNull()
      expect(await keyRow('busy')).toBeNull()
    } finally {
      await holder.query('ROLLBACK')
      await holder.end()
    }
    // Released with the holder's transaction: the key is free.
    await createClaiming('busy', 'Busy').run
    expect((await keyRow('busy'))?.responseStatus).toBe(201)
  })

  it('refuses any other write beside the one that claims the key', async () => {
    const key = keyWithAnswer(deps, input('one-write', { name: 'One' }), answerOf('x'))
    const tenant = { organizationId, userId }
    await expect(
      runClaimingKeyInWrite(key, () =>
        withTenant(app, tenant, (tx) =>
          tx.project.create({ data: { organizationId, name: 'Beside' } }),
        ),
      ),
    ).rejects.toThrow(/a transaction beside it/)
    await expect(
      runClaimingKeyInWrite(key, async () => {
        await createProject(deps, tenant, { name: 'One' })
        await writeWithTenant(app, tenant, [Prisma.sql`SELECT 1`])
      }),
    ).rejects.toThrow(/this is a second/)
    expect(await admin.project.count({ where: { name: 'Beside' } })).toBe(0)
    // Work that makes no write at all claimed no key: refused before its answer goes out.
    await expect(
      runClaimingKeyInWrite(
        keyWithAnswer(deps, input('no-write', {}), answerOf('y')),
        async () => {},
      ),
    ).rejects.toThrow(/never claimed/)
    // The first write committed with its key; the second was never sent.
    expect((await keyRow('one-write'))?.responseStatus).toBe(201)
  })
})
