import { randomUUID } from 'node:crypto'
import { createDatabaseClient, type PrismaClient } from '@repo/db'
import { useIsolatedServices, waitUntil } from '@repo/testing'
import pg from 'pg'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { clientConfig, seedTwoTenants } from '../../db/test/catalog.ts'
import type { CoreDeps } from '../src/context.ts'
import { deleteProject } from '../src/delete-project.ts'
import { deleteTask } from '../src/delete-task.ts'

// A task's delete updates its project's task count (ADR 044), so it locks the project; a
// project's delete locks the project and then, through the cascade, its tasks. Both must
// take the project first, or a task deleted while its project is deleted deadlocks them
// (Postgres aborts one, and the user gets an error). The interleaving is forced: a third
// connection holds the task's row while the two start, and lets go once both wait.

const services = useIsolatedServices()
let admin: PrismaClient
let app: PrismaClient
let deps: CoreDeps
const ids = { orgA: randomUUID(), orgB: randomUUID(), alice: randomUUID(), bob: randomUUID() }

beforeAll(async () => {
  const { database } = services()
  admin = createDatabaseClient(clientConfig(database.url))
  app = createDatabaseClient(clientConfig(database.appUrl))
  deps = { db: app } as CoreDeps
  await seedTwoTenants(admin, ids)
})
afterAll(async () => {
  await Promise.all([app?.$disconnect(), admin?.$disconnect()])
})

/** Backends of this database waiting for a lock right now. */
async function waitingForLocks() {
  const [row] = await admin.$queryRaw<[{ n: number }]>`
    SELECT count(*)::int AS n FROM pg_stat_activity
    WHERE datname = current_database() AND wait_event_type = 'Lock'`
  return row.n
}

describe('deleting a task while its project is deleted', () => {
  it('lets both finish, one after the other, without a deadlock', async () => {
    const projectId = randomUUID()
    const taskId = randomUUID()
    await admin.project.create({ data: { id: projectId, organizationId: ids.orgA, name: 'P' } })
    await admin.task.create({
      data: { id: taskId, organizationId: ids.orgA, projectId, title: 'T' },
    })
    const actor = { organizationId: ids.orgA, userId: ids.alice }

    const holder = new pg.Client({ connectionString: services().database.url })
    await holder.connect()
    try {
      await holder.query('BEGIN')
      await holder.query('SELECT 1 FROM tasks WHERE id = $1 FOR UPDATE', [taskId])
      const task = deleteTask(deps, actor, { projectId, taskId, expectedVersion: undefined })
      // Waits on the held task (having locked the project first, if it does).
      await waitUntil(async () => (await waitingForLocks()) === 1, {
        what: 'the task delete to wait',
        timeoutMs: 10_000,
        intervalMs: 20,
      })
      const project = deleteProject(deps, actor, { projectId, expectedVersion: undefined })
      await waitUntil(async () => (await waitingForLocks()) === 2, {
        what: 'the project delete to wait',
        timeoutMs: 10_000,
        intervalMs: 20,
      })
      await holder.query('COMMIT')
      const outcomes = await Promise.allSettled([task, project])
      expect(outcomes.map((o) => (o.status === 'rejected' ? String(o.reason) : 'ok'))).toEqual([
        'ok',
        'ok',
      ])
    } finally {
      await holder.end()
    }
    expect(await admin.project.count({ where: { id: projectId } })).toBe(0)
    expect(await admin.task.count({ where: { id: taskId } })).toBe(0)
  })
})
