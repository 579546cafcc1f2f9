import { useIsolatedServices } from '@repo/testing'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { DEMO_ADMIN, DEMO_MEMBER } from '../src/demo-account.ts'
import { createDatabaseClient, type PrismaClient } from '../src/index.ts'
import { DEMO_ACCOUNT, DEMO_ACCOUNTS, seed } from '../src/seed.ts'

const services = useIsolatedServices()
let db: PrismaClient

beforeAll(() => {
  db = createDatabaseClient({
    DATABASE_URL: services().database.url,
    DATABASE_POOL_MAX: 3,
    DATABASE_CONNECT_TIMEOUT_MS: 2_000,
    DATABASE_STATEMENT_TIMEOUT_MS: 300,
  })
})
afterAll(() => db?.$disconnect())

/** From no demo data at all, whatever other tests of this file seeded or changed before. */
async function forgetDemoData() {
  // Tasks first: they refer to their assignee's membership, which would go with the organization.
  await db.$executeRaw`DELETE FROM tasks WHERE organization_id IN (SELECT id FROM organizations WHERE name = 'Acme (demo)')`
  await db.organization.deleteMany({ where: { name: 'Acme (demo)' } })
  await db.user.deleteMany({ where: { email: { in: DEMO_ACCOUNTS.map((a) => a.email) } } })
}

/** How many rows of each kind there are: a rerun of the seed must add none. */
const demoCounts = async () => ({
  users: await db.user.count(),
  organizations: await db.organization.count(),
  memberships: await db.membership.count(),
  projects: await db.project.count(),
  tasks: await db.task.count(),
  auditLogs: await db.auditLog.count(),
})

describe('database client', () => {
  it('reads and writes through the pg adapter', async () => {
    const org = await db.organization.create({ data: { name: 'Acme' } })
    expect(org.id).toMatch(/^[0-9a-f-]{36}$/)
    expect(await db.organization.findUnique({ where: { id: org.id } })).toMatchObject({
      name: 'Acme',
    })
  })

  it('enforces the unique email constraint in the database', async () => {
    await db.user.create({ data: { email: 'dup@example.com', name: 'One' } })
    await expect(
      db.user.create({ data: { email: 'dup@example.com', name: 'Two' } }),
    ).rejects.toMatchObject({ code: 'P2002' })
  })

  it('cancels a statement that runs past the statement timeout', async () => {
    const started = Date.now()
    await expect(db.$queryRaw`SELECT 1 AS ok FROM pg_sleep(5)`).rejects.toThrow(/statement timeout/)
    expect(Date.now() - started).toBeLessThan(3_000)
  })

  it('keeps the pool within its configured size under concurrent load', async () => {
    await Promise.all(
      Array.from({ length: 12 }, () => db.$queryRaw`SELECT 1 AS ok FROM pg_sleep(0.05)`),
    )
    const [row] = await db.$queryRaw<{ n: bigint }[]>`
      SELECT count(*) AS n FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()`
    expect(Number(row?.n)).toBeLessThanOrEqual(3)
  })

  it('seeds idempotently: verified demo accounts of each role in one organization, with projects and tasks', async () => {
    await forgetDemoData()
    await seed(db)
    const counts = await demoCounts()
    await seed(db)
    expect(await demoCounts()).toEqual(counts)

    const users = await db.user.findMany({
      where: { email: { in: DEMO_ACCOUNTS.map((a) => a.email) } },
    })
    expect(users).toHaveLength(3)
    for (const user of users) {
      expect(user.passwordHash).toBe(DEMO_ACCOUNT.passwordHash)
      expect(user.emailVerifiedAt).not.toBeNull()
    }
    const owner = users.find((u) => u.email === DEMO_ACCOUNT.email)
    const organizations = await db.organization.findMany({
      where: { name: 'Acme (demo)', memberships: { some: { userId: owner?.id } } },
    })
    expect(organizations).toHaveLength(1)
    const organizationId = organizations[0]?.id as string
    const roles = await db.membership.findMany({
      where: { organizationId },
      select: { role: true, user: { select: { email: true } } },
    })
    expect(roles.map((m) => [m.user.email, m.role]).sort()).toEqual([
      [DEMO_ADMIN.email, 'admin'],
      [DEMO_ACCOUNT.email, 'owner'],
      [DEMO_MEMBER.email, 'member'],
    ])

    const projects = await db.project.findMany({ where: { organizationId } })
    expect(projects.length).toBeGreaterThanOrEqual(4)
    expect(projects.length).toBeLessThanOrEqual(6)
    expect(projects.filter((p) => p.status === 'archived')).toHaveLength(1)
    const tasks = await db.task.findMany({ where: { organizationId } })
    expect(tasks.length).toBeGreaterThanOrEqual(10)
    const seen = (pick: (t: (typeof tasks)[number]) => unknown) => new Set(tasks.map(pick))
    expect(seen((t) => t.status)).toEqual(new Set(['todo', 'in_progress', 'done', 'canceled']))
    expect(seen((t) => t.priority)).toEqual(new Set(['low', 'medium', 'high', 'urgent']))
    expect(seen((t) => t.assigneeId)).toEqual(new Set([...users.map((u) => u.id), null]))

    // What the seed did, and nothing it did not: no actor, no address, marked as seeded.
    const audit = await db.auditLog.findMany({ where: { organizationId } })
    expect(audit.map((e) => e.action).sort()).toEqual([
      'member.added',
      'member.added',
      'member.added',
      'organization.created',
    ])
    for (const entry of audit) {
      expect(entry).toMatchObject({ actorUserId: null, ipAddress: null })
      expect(entry.metadata).toMatchObject({ seeded: true })
    }
  })

  it("keeps what a developer changed in the demo organization, and brings an older seed's up to date", async () => {
    await forgetDemoData()
    // What the seed made before it had more roles and projects.
    const owner = await db.user.create({
      data: {
        email: DEMO_ACCOUNT.email,
        name: 'Demo User',
        passwordHash: DEMO_ACCOUNT.passwordHash,
        emailVerifiedAt: new Date(),
      },
    })
    const organization = await db.organization.create({
      data: { name: 'Acme (demo)', memberships: { create: { userId: owner.id, role: 'owner' } } },
    })
    const organizationId = organization.id
    const project = await db.project.create({ data: { organizationId, name: 'Website relaunch' } })
    await db.task.create({
      data: { organizationId, projectId: project.id, title: 'Renamed by the developer' },
    })
    await seed(db)
    expect(await db.membership.count({ where: { organizationId } })).toBe(3)
    expect(await db.project.count({ where: { organizationId } })).toBeGreaterThanOrEqual(4)
    const kept = await db.task.findMany({
      where: { organizationId, project: { name: 'Website relaunch' } },
    })
    expect(kept.map((t) => t.title)).toEqual(['Renamed by the developer'])

    const admin = await db.user.findUniqueOrThrow({ where: { email: DEMO_ADMIN.email } })
    await db.membership.update({
      where: { organizationId_userId: { organizationId, userId: admin.id } },
      data: { role: 'member' },
    })
    await db.project.updateMany({ where: { organizationId }, data: { status: 'archived' } })
    const counts = await demoCounts()
    await seed(db)
    expect(await demoCounts()).toEqual(counts)
    expect(
      await db.membership.findUnique({
        where: { organizationId_userId: { organizationId, userId: admin.id } },
      }),
    ).toMatchObject({ role: 'member' })
    expect(await db.project.count({ where: { organizationId, status: 'active' } })).toBe(0)
  })

  it('refuses to seed in production, where the public demo password must never exist', async () => {
    const before = await db.user.count()
    const previous = process.env.NODE_ENV
    process.env.NODE_ENV = 'production'
    try {
      await expect(seed(db)).rejects.toThrow('Refusing to seed demo data with NODE_ENV=production.')
    } finally {
      process.env.NODE_ENV = previous
    }
    expect(await db.user.count()).toBe(before)
  })

  it('never adopts another organization that happens to have the demo name', async () => {
    const stranger = await db.organization.create({ data: { name: 'Acme (demo)' } })
    await seed(db)
    expect(await db.membership.count({ where: { organizationId: stranger.id } })).toBe(0)
  })

  it('gives a demo user seeded before it had a password its password, and keeps a changed one', async () => {
    await seed(db)
    await db.user.update({ where: { email: DEMO_ACCOUNT.email }, data: { passwordHash: null } })
    await seed(db)
    const restored = await db.user.findUniqueOrThrow({ where: { email: DEMO_ACCOUNT.email } })
    expect(restored.passwordHash).toBe(DEMO_ACCOUNT.passwordHash)
    await db.user.update({
      where: { email: DEMO_ACCOUNT.email },
      data: { passwordHash: 'changed' },
    })
    await seed(db)
    const kept = await db.user.findUniqueOrThrow({ where: { email: DEMO_ACCOUNT.email } })
    expect(kept.passwordHash).toBe('changed')
  })
})
