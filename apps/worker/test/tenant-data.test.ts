import {
  type CoreDeps,
  createWebhookEndpoint,
  deleteOrganization,
  listMembers,
  MEMBER_REMOVAL_BATCH,
  removeMember,
  resolveMembership,
} from '@repo/core'
import { DEFAULT_QUEUE, memberRemovalJob } from '@repo/jobs'
import { useIsolatedServices } from '@repo/testing'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createWorker } from '../src/create-worker.ts'
import { tenantDataHandlers } from '../src/tenant-data.ts'
import { capturingLogger, ownerQuery, seedOrganization } from './helpers.ts'
import { startPipeline } from './pipeline.ts'

// Deleting a large organization and removing a member with many tasks: tens of thousands
// of rows, against real Postgres and Redis, through the outbox and the worker's batched
// jobs. The request does a constant amount of work; the job empties the tenant in short
// transactions, turn after turn, whatever its size.
const services = useIsolatedServices()
const { logger, lines } = capturingLogger()
const TASKS = 30_000

let pipeline: ReturnType<typeof startPipeline>
let deps: CoreDeps

const owner = (sql: string, values: unknown[] = []) =>
  ownerQuery(services().database.url, sql, values)
const count = async (sql: string, values: unknown[]) =>
  ((await owner(sql, values))[0] as { n: number }).n

beforeAll(() => {
  pipeline = startPipeline(services(), logger)
  deps = pipeline.coreDeps
  // Short turns, so the jobs must queue themselves again several times to finish.
  pipeline.workers.push(
    createWorker({
      queue: DEFAULT_QUEUE,
      connection: pipeline.connection,
      handlers: tenantDataHandlers(pipeline.workerDb, { batchSize: 2_000, turnMs: 150 }),
      concurrency: 2,
      logger,
    }),
  )
})

afterAll(() => pipeline?.stop())

/** An organization with two projects and `tasks` tasks, all assigned to its member. */
async function largeOrganization(name: string, tasks: number) {
  const org = await seedOrganization(services().database.url, name)
  await owner(
    `INSERT INTO projects (id, organization_id, name, updated_at)
     SELECT gen_random_uuid(), $1, 'Project ' || i, now() FROM generate_series(1, 2) i`,
    [org.orgId],
  )
  await owner(
    `INSERT INTO tasks (id, organization_id, project_id, title, assignee_id, updated_at)
     SELECT gen_random_uuid(), $1, p.id, 'Task ' || i, $2, now()
     FROM generate_series(1, $3::int) i
     JOIN LATERAL (SELECT id FROM projects WHERE organization_id = $1 ORDER BY name
                   OFFSET (i % 2) LIMIT 1) p ON true`,
    [org.orgId, org.people.member, tasks],
  )
  return org
}

describe('deleting a large organization', () => {
  it(`closes it at once and empties it in batches: ${TASKS} tasks, deliveries and attempts`, async () => {
    const org = await largeOrganization('Large', TASKS)
    const endpoint = (
      await createWebhookEndpoint(
        deps,
        { ...org.actor, emailVerified: true },
        { url: 'http://127.0.0.1:9/hooks', events: ['task.updated'] },
      )
    ).endpoint
    await owner(
      `INSERT INTO webhook_deliveries (id, organization_id, endpoint_id, event_id, event_type, payload, status)
       SELECT gen_random_uuid(), $1, $2, 'msg_' || i, 'task.updated', '{}', 'failed'
       FROM generate_series(1, 5000) i`,
      [org.orgId, endpoint.id],
    )
    await owner(
      `INSERT INTO webhook_delivery_attempts (id, organization_id, delivery_id, attempt, started_at, duration_ms, succeeded)
       SELECT gen_random_uuid(), organization_id, id, 1, now(), 1, false FROM webhook_deliveries
       WHERE organization_id = $1`,
      [org.orgId],
    )
    // Another tenant, untouched by all of it.
    const neighbour = await largeOrganization('Neighbour', 100)

    const requested = await deleteOrganization(deps, org.actor)
    expect(requested.deletionRequestedAt).toBeInstanceOf(Date)
    // The request's transaction touched no task: the job does that.
    expect(
      await count('SELECT count(*)::int AS n FROM tasks WHERE organization_id = $1', [org.orgId]),
    ).toBe(TASKS)
    // Closed at once: the membership check says so; keys and endpoints are off.
    expect(
      await resolveMembership(deps, {
        userId: org.people.owner as string,
        organizationId: org.orgId,
      }),
    ).toEqual({ role: 'owner', organizationDeleting: true })
    expect(
      await owner('SELECT disabled_at IS NOT NULL AS off FROM webhook_endpoints WHERE id = $1', [
        endpoint.id,
      ]),
    ).toEqual([{ off: true }])

    await expect
      .poll(
        async () =>
          count('SELECT count(*)::int AS n FROM organizations WHERE id = $1', [org.orgId]),
        {
          timeout: 120_000,
          interval: 200,
        },
      )
      .toBe(0)
    for (const table of [
      'tasks',
      'projects',
      'memberships',
      'webhook_endpoints',
      'webhook_deliveries',
      'webhook_delivery_attempts',
    ])
      expect(
        await count(`SELECT count(*)::int AS n FROM ${table} WHERE organization_id = $1`, [
          org.orgId,
        ]),
        table,
      ).toBe(0)
    // It took several turns (each queued the job again), and every batch was small.
    expect(lines.filter((l) => l.msg === 'organization deletion continues').length).toBeGreaterThan(
      1,
    )
    const audit = await owner(
      `SELECT action, actor_user_id FROM audit_logs WHERE organization_id = $1 AND target_type = 'organization' ORDER BY created_at`,
      [org.orgId],
    )
    expect(audit).toEqual([
      { action: 'organization.deletion_requested', actor_user_id: org.people.owner },
      { action: 'organization.deleted', actor_user_id: org.people.owner },
    ])
    expect(
      await count('SELECT count(*)::int AS n FROM tasks WHERE organization_id = $1', [
        neighbour.orgId,
      ]),
    ).toBe(100)
  })
})

describe('removing a member with many tasks', () => {
  it(`ends their access at once and unassigns ${TASKS} tasks in batches before the membership goes`, async () => {
    const org = await largeOrganization('Busy member', TASKS)
    const member = org.people.member as string
    const result = await removeMember(deps, org.actor, { userId: member })
    expect(result).toEqual({ status: 'removing', tasksToUnassign: TASKS })
    // No access from now on, and no new tasks for them.
    expect(await resolveMembership(deps, { userId: member, organizationId: org.orgId })).toBeNull()
    const listed = await listMembers(deps, org.actor, { limit: 10 })
    expect(listed.data.find((m) => m.userId === member)?.removalRequestedAt).toBeInstanceOf(Date)

    await expect
      .poll(
        async () =>
          count(
            'SELECT count(*)::int AS n FROM memberships WHERE organization_id = $1 AND user_id = $2',
            [org.orgId, member],
          ),
        { timeout: 30_000, interval: 200 },
      )
      .toBe(0)
    expect(
      await owner(
        `SELECT count(*)::int AS n, min(version) AS low, max(version) AS high FROM tasks
         WHERE organization_id = $1 AND assignee_id IS NULL`,
        [org.orgId],
      ),
    ).toEqual([{ n: TASKS, low: 2, high: 2 }])
    expect(lines.filter((l) => l.msg === 'member removal continues').length).toBeGreaterThan(1)
  })

  // Its wait allows 120 s (thousands of rows, batch after batch, on a machine the rest of
  // the suite loads): the test must allow more.
  it('tells webhook subscribers about every task it unassigns, batch after batch', {
    timeout: 150_000,
  }, async () => {
    const tasks = MEMBER_REMOVAL_BATCH + 500
    const org = await largeOrganization('Watched', tasks)
    await createWebhookEndpoint(
      deps,
      { ...org.actor, emailVerified: true },
      { url: 'http://127.0.0.1:9/hooks', events: ['task.updated'] },
    )
    expect(await removeMember(deps, org.actor, { userId: org.people.member as string })).toEqual({
      status: 'removing',
      tasksToUnassign: tasks,
    })
    await expect
      .poll(
        async () =>
          count(
            `SELECT count(*)::int AS n FROM outbox_messages
             WHERE organization_id = $1 AND job_name = 'webhooks.event'`,
            [org.orgId],
          ),
        { timeout: 120_000, interval: 200 },
      )
      .toBe(tasks)
  })

  it('removes a member with a batch of tasks or fewer in the request itself', async () => {
    const org = await largeOrganization('Small', 10)
    const member = org.people.member as string
    expect(await removeMember(deps, org.actor, { userId: member })).toEqual({
      status: 'removed',
    })
    expect(
      await count(
        'SELECT count(*)::int AS n FROM tasks WHERE organization_id = $1 AND assignee_id IS NULL',
        [org.orgId],
      ),
    ).toBe(10)
    // Gone by the time the request answers, with no job left to finish it.
    expect(
      await count(
        'SELECT count(*)::int AS n FROM memberships WHERE organization_id = $1 AND user_id = $2',
        [org.orgId, member],
      ),
    ).toBe(0)
    expect(
      await count(
        `SELECT count(*)::int AS n FROM outbox_messages
         WHERE organization_id = $1 AND job_name = $2`,
        [org.orgId, memberRemovalJob.name],
      ),
    ).toBe(0)
  })
})

describe('a removal or deletion whose job was lost', () => {
  it('finishes when asked again: the job is queued once more', async () => {
    // As if each had been asked for and its job then failed for good: marked, no job.
    const org = await largeOrganization('Stuck deletion', 3_000)
    await owner('UPDATE organizations SET deletion_requested_at = now() WHERE id = $1', [org.orgId])
    const busy = await largeOrganization('Stuck removal', 3_000)
    const member = busy.people.member as string
    await owner(
      'UPDATE memberships SET removal_requested_at = now() WHERE organization_id = $1 AND user_id = $2',
      [busy.orgId, member],
    )

    const again = await deleteOrganization(deps, org.actor)
    expect(again.deletionRequestedAt).toBeInstanceOf(Date)
    expect(await removeMember(deps, busy.actor, { userId: member })).toEqual({
      status: 'removing',
      tasksToUnassign: 3_000,
    })
    await expect
      .poll(
        async () =>
          (await count('SELECT count(*)::int AS n FROM organizations WHERE id = $1', [org.orgId])) +
          (await count(
            'SELECT count(*)::int AS n FROM memberships WHERE organization_id = $1 AND user_id = $2',
            [busy.orgId, member],
          )),
        { timeout: 30_000, interval: 200 },
      )
      .toBe(0)
  })
})
