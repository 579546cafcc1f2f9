import { randomUUID } from 'node:crypto'
import { cpSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, relative, sep } from 'node:path'
import { createTestDatabase, useIsolatedServices } from '@repo/testing'
import pg from 'pg'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createDatabaseClient, type PrismaClient, withTenant } from '../src/index.ts'
import { defaultPaths } from '../src/migrate/files.ts'
import { applyMigrations } from '../src/migrate/index.ts'
import { clientConfig, seedTwoTenants } from './catalog.ts'

// The quotas read a count their parent row carries (organizations.project_count,
// projects.task_count), kept by triggers (ADR 044). A count that drifts from the rows lets
// a tenant past its quota or refuses it below, so every way rows come and go is checked
// against a count of the rows themselves: inserts of one or many through the application
// login, rolled-back transactions, deletes of one or many, cascades, moves, and the
// migration's backfill of rows that were there before it.

const services = useIsolatedServices()
let admin: PrismaClient
let app: PrismaClient
const ids = { orgA: randomUUID(), orgB: randomUUID(), alice: randomUUID(), bob: randomUUID() }
const actorA = () => ({ organizationId: ids.orgA, userId: ids.alice })

beforeAll(async () => {
  admin = createDatabaseClient(clientConfig(services().database.url))
  app = createDatabaseClient(clientConfig(services().database.appUrl))
  await seedTwoTenants(admin, ids)
})
afterAll(async () => {
  await Promise.all([admin?.$disconnect(), app?.$disconnect()])
})

/** Each organization's kept count beside the count of its rows (owner login, no RLS). */
async function projectCounts(db: PrismaClient = admin) {
  return db.$queryRaw<Array<{ id: string; kept: number; rows: number }>>`
    SELECT o.id::text, o.project_count AS kept,
      (SELECT count(*)::int FROM projects p WHERE p.organization_id = o.id) AS rows
    FROM organizations o ORDER BY o.id`
}
async function taskCounts(db: PrismaClient = admin) {
  return db.$queryRaw<Array<{ id: string; kept: number; rows: number }>>`
    SELECT p.id::text, p.task_count AS kept,
      (SELECT count(*)::int FROM tasks t WHERE t.project_id = p.id) AS rows
    FROM projects p ORDER BY p.id`
}
/** Every kept count equals its rows' count. */
async function expectInStep() {
  for (const row of [...(await projectCounts()), ...(await taskCounts())])
    expect({ id: row.id, kept: row.kept }).toEqual({ id: row.id, kept: row.rows })
}
const keptProjects = async (organizationId: string) =>
  (await projectCounts()).find((row) => row.id === organizationId)?.kept
const keptTasks = async (projectId: string) =>
  (await taskCounts()).find((row) => row.id === projectId)?.kept

const newProject = (name: string) => ({ id: randomUUID(), organizationId: ids.orgA, name })
const newProjects = (names: string[]) => names.map(newProject)

describe('kept counts', () => {
  it('count inserts of one and of many rows by their statement, through the application login', async () => {
    const before = (await keptProjects(ids.orgA)) ?? 0
    const first = newProject('One')
    const rest = newProjects(['Two', 'Three', 'Four'])
    const seen = await withTenant(app, actorA(), async (tx) => {
      await tx.project.create({ data: first })
      await tx.project.createMany({ data: rest })
      await tx.task.createMany({
        data: ['a', 'b', 'c'].map((title) => ({
          organizationId: ids.orgA,
          projectId: first.id,
          title,
        })),
      })
      // Counted by each statement, inside the transaction; the others see it at commit.
      const [row] = await tx.$queryRaw<[{ count: number }]>`
        SELECT project_count AS count FROM organizations WHERE id = ${ids.orgA}::uuid`
      return { own: row.count, others: await keptProjects(ids.orgA) }
    })
    expect(seen).toEqual({ own: before + 4, others: before })
    expect(await keptProjects(ids.orgA)).toBe(before + 4)
    expect(await keptTasks(first.id)).toBe(3)
    expect(await keptProjects(ids.orgB)).toBe(0)
    await expectInStep()
  })

  it("write the parent's row once per statement, however many rows it inserts", async () => {
    // Once per row, a statement's n rows under one parent update its row n times in one
    // transaction, each update walking the versions left by the ones before: quadratic (a
    // bulk insert of 500,000 never committed). The transaction's own statistics count
    // the parent's updates; deferred triggers would fire at commit, so they are made to
    // fire first.
    const many = 400
    const { project, task } = await withTenant(app, actorA(), async (tx) => {
      const updates = async () => {
        await tx.$executeRaw`SET CONSTRAINTS ALL IMMEDIATE`
        const rows = await tx.$queryRaw<Array<{ relname: string; n: number }>>`
          SELECT relname, n_tup_upd::int AS n FROM pg_stat_xact_user_tables
          WHERE relname IN ('organizations', 'projects')`
        return Object.fromEntries(rows.map((row) => [row.relname, row.n]))
      }
      const start = await updates()
      const projects = Array.from({ length: many }, (_, i) => newProject(`Bulk ${i}`))
      await tx.project.createMany({ data: projects })
      const afterProjects = await updates()
      const parent = projects[0]?.id as string
      await tx.task.createMany({
        data: Array.from({ length: many }, (_, i) => ({
          organizationId: ids.orgA,
          projectId: parent,
          title: `Bulk ${i}`,
        })),
      })
      const afterTasks = await updates()
      return {
        project: (afterProjects.organizations ?? 0) - (start.organizations ?? 0),
        task: (afterTasks.projects ?? 0) - (afterProjects.projects ?? 0),
      }
    })
    expect({ project, task }).toEqual({ project: 1, task: 1 })
    await expectInStep()
  })

  it('count only the rows an insert that skips conflicts, or an upsert, really inserted', async () => {
    const before = (await keptProjects(ids.orgA)) ?? 0
    const kept = newProject('Kept')
    await withTenant(app, actorA(), (tx) => tx.project.create({ data: kept }))
    await withTenant(app, actorA(), async (tx) => {
      // The same name is taken (unique in the organization): skipped, not counted.
      const { count } = await tx.project.createMany({
        data: [{ ...newProject('Kept') }, newProject('Skip new 1'), newProject('Skip new 2')],
        skipDuplicates: true,
      })
      expect(count).toBe(2)
      // An upsert that meets the taken name updates that row: nothing inserted, nothing
      // counted. One with a new name inserts, and counts.
      for (const name of ['Kept', 'Upserted'])
        await tx.$executeRaw`
          INSERT INTO projects (id, organization_id, name, updated_at)
          VALUES (${randomUUID()}::uuid, ${ids.orgA}::uuid, ${name}, now())
          ON CONFLICT (organization_id, name) DO UPDATE SET description = 'upserted'`
    })
    expect(await keptProjects(ids.orgA)).toBe(before + 4)
    await expectInStep()
  })

  it('count nothing for a transaction that rolls back', async () => {
    const before = await keptProjects(ids.orgA)
    await expect(
      withTenant(app, actorA(), async (tx) => {
        await tx.project.createMany({ data: newProjects(['Gone 1', 'Gone 2']) })
        throw new Error('changed its mind')
      }),
    ).rejects.toThrow('changed its mind')
    expect(await keptProjects(ids.orgA)).toBe(before)
    await expectInStep()
  })

  it('count a row created and deleted in one transaction as nothing', async () => {
    const before = await keptProjects(ids.orgA)
    const brief = newProject('Brief')
    await withTenant(app, actorA(), async (tx) => {
      await tx.project.create({ data: brief })
      await tx.project.delete({ where: { id: brief.id } })
    })
    expect(await keptProjects(ids.orgA)).toBe(before)
    await expectInStep()
  })

  it('count deletes of many rows in one statement, and the tasks that go with a project', async () => {
    const withTasks = newProject('Del 1')
    const projects = [withTasks, ...newProjects(['Del 2', 'Del 3'])]
    await withTenant(app, actorA(), async (tx) => {
      await tx.project.createMany({ data: projects })
      await tx.task.createMany({
        data: Array.from({ length: 5 }, (_, i) => ({
          organizationId: ids.orgA,
          projectId: withTasks.id,
          title: `t${i}`,
        })),
      })
    })
    const before = await keptProjects(ids.orgA)
    expect(await keptTasks(withTasks.id)).toBe(5)
    await withTenant(app, actorA(), async (tx) => {
      await tx.task.deleteMany({ where: { projectId: withTasks.id, title: { in: ['t0', 't1'] } } })
    })
    expect(await keptTasks(withTasks.id)).toBe(3)
    // One statement, three projects, one of them with tasks (their cascade finds the
    // project gone and counts nothing).
    await withTenant(app, actorA(), (tx) =>
      tx.project.deleteMany({ where: { id: { in: projects.map((p) => p.id) } } }),
    )
    expect(await keptProjects(ids.orgA)).toBe((before ?? 0) - 3)
    await expectInStep()
  })

  it('move a task from one project to the other', async () => {
    const from = newProject('From')
    const to = newProject('To')
    const taskId = randomUUID()
    await withTenant(app, actorA(), async (tx) => {
      await tx.project.createMany({ data: [from, to] })
      await tx.task.create({
        data: { id: taskId, organizationId: ids.orgA, projectId: from.id, title: 'Moving' },
      })
    })
    await withTenant(app, actorA(), (tx) =>
      tx.task.update({ where: { id: taskId }, data: { projectId: to.id } }),
    )
    expect([await keptTasks(from.id), await keptTasks(to.id)]).toEqual([0, 1])
    await expectInStep()
  })

  it('let an organization be deleted with everything in it', async () => {
    const orgId = randomUUID()
    await admin.organization.create({ data: { id: orgId, name: 'Going' } })
    const projectId = randomUUID()
    await withTenant(app, { organizationId: orgId }, async (tx) => {
      await tx.project.create({ data: { id: projectId, organizationId: orgId, name: 'P' } })
      await tx.task.create({ data: { organizationId: orgId, projectId, title: 'T' } })
    })
    expect(await keptProjects(orgId)).toBe(1)
    // The cascade deletes its projects and tasks; their triggers find no parent to count in.
    await withTenant(app, { organizationId: orgId }, (tx) =>
      tx.organization.delete({ where: { id: orgId } }),
    )
    expect(await keptProjects(orgId)).toBeUndefined()
    await expectInStep()
  })

  it('are not changed by another tenant: its inserts count in its own organization only', async () => {
    const beforeA = await keptProjects(ids.orgA)
    await withTenant(app, { organizationId: ids.orgB, userId: ids.bob }, (tx) =>
      tx.project.create({ data: { organizationId: ids.orgB, name: 'B1' } }),
    )
    expect(await keptProjects(ids.orgA)).toBe(beforeA)
    expect(await keptProjects(ids.orgB)).toBe(1)
    await expectInStep()
  })
})

describe('the previous release', () => {
  it('still finds its quota function, which counts the rows under the same lock', async () => {
    // During a rollout (and after a rollback) a release from before ADR 045 locks and counts
    // with app_lock_organization_count_projects: it must agree with the kept count.
    const counted = await withTenant(app, actorA(), async (tx) => {
      await tx.project.create({ data: newProject('Old release') })
      const [row] = await tx.$queryRaw<[{ count: number }]>`
        SELECT app_lock_organization_count_projects(${ids.orgA}::uuid) AS count`
      return row.count
    })
    // The old function counted its own insert; the kept count has it after the commit.
    expect(counted).toBe(await keptProjects(ids.orgA))
    await expectInStep()
  })
})

describe('the migration that adds the counts', () => {
  it('counts the rows already there, as a database owner that row-level security binds', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'groundwork-counters-'))
    try {
      // The migrations before it, then (as the owner below) up to it: the later ones need
      // a superuser's rights, which this owner lacks, and are not what is tested here.
      const counters = '20261204090000_quota_counters'
      const copy = (keep: (name: string) => boolean, into: string) => {
        cpSync(defaultPaths.migrationsDir, into, {
          recursive: true,
          filter: (source) => {
            const name = relative(defaultPaths.migrationsDir, source).split(sep)[0] ?? ''
            return !/^\d{14}_/.test(name) || keep(name)
          },
        })
        return into
      }
      const migrationsDir = copy((name) => name < counters, join(dir, 'before'))
      const withCounters = copy((name) => name <= counters, join(dir, 'with'))
      const db = await createTestDatabase({ migrated: false })
      try {
        const quiet = { log: () => {} }
        await applyMigrations({ databaseUrl: db.url, migrationsDir, ...quiet })
        const org = randomUUID()
        const project = randomUUID()
        const owner = new pg.Client({ connectionString: db.url })
        await owner.connect()
        // An owner that is no superuser (as on a managed database): it owns the tables,
        // and FORCE makes their row-level security bind it too.
        const role = `counters_owner_${randomUUID().slice(0, 8)}`
        const password = randomUUID()
        try {
          await owner.query(
            `INSERT INTO organizations (id, name, updated_at) VALUES ($1, 'Old', now())`,
            [org],
          )
          await owner.query(
            `INSERT INTO projects (id, organization_id, name, updated_at)
             SELECT CASE WHEN n = 1 THEN $2::uuid ELSE gen_random_uuid() END, $1, 'P' || n, now()
             FROM generate_series(1, 7) n`,
            [org, project],
          )
          await owner.query(
            `INSERT INTO tasks (id, organization_id, project_id, title, updated_at)
             SELECT gen_random_uuid(), $1, $2, 'T' || n, now() FROM generate_series(1, 4) n`,
            [org, project],
          )
          await owner.query(
            `CREATE ROLE ${role} LOGIN NOSUPERUSER NOBYPASSRLS PASSWORD '${password}'`,
          )
          await owner.query(`GRANT ALL ON SCHEMA public TO ${role}`)
          for (const table of ['organizations', 'projects', 'tasks'])
            await owner.query(`ALTER TABLE ${table} OWNER TO ${role}`)
          await owner.query(`GRANT ALL ON _prisma_migrations TO ${role}`)
        } finally {
          await owner.end()
        }
        const asRole = new URL(db.url)
        asRole.username = role
        asRole.password = password
        await applyMigrations({
          databaseUrl: asRole.toString(),
          migrationsDir: withCounters,
          ...quiet,
        })
        const check = new pg.Client({ connectionString: db.url })
        await check.connect()
        try {
          const { rows } = await check.query(
            `SELECT (SELECT project_count FROM organizations WHERE id = $1) AS projects,
                    (SELECT task_count FROM projects WHERE id = $2) AS tasks,
                    (SELECT bool_and(relforcerowsecurity) FROM pg_class
                     WHERE relname IN ('organizations', 'projects', 'tasks')) AS forced`,
            [org, project],
          )
          expect(rows[0]).toEqual({ projects: 7, tasks: 4, forced: true })
        } finally {
          await check.end()
        }
      } finally {
        await db.drop()
      }
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })
})
