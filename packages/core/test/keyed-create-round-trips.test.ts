import { randomUUID } from 'node:crypto'
import { createDatabaseClient, type PrismaClient, runHoldingClaim } from '@repo/db'
import { useIsolatedServices } from '@repo/testing'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { clientConfig, seedTwoTenants } from '../../db/test/catalog.ts'
import { startWireRecorder, type WireRecorder } from '../../db/test/wire-recorder.ts'
import type { CoreDeps } from '../src/context.ts'
import { createProject } from '../src/create-project.ts'
import {
  claimIdempotencyKey,
  completeIdempotencyKey,
  hashIdempotencyScope,
  hashIdempotentRequest,
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
    quotas: { projectsPerOrganization: 3, tasksPerProject: 10 },
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
