import { useIsolatedServices } from '@repo/testing'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createDatabaseClient, type PrismaClient } from '../src/index.ts'
import { DEMO_ACCOUNT, seed } from '../src/seed.ts'

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

  it('seeds idempotently: a verified demo account owning one organization, project and its tasks', async () => {
    // From no demo data at all, whatever other tests of this file seeded or changed before.
    await db.$executeRaw`DELETE FROM tasks WHERE organization_id IN (SELECT id FROM organizations WHERE name = 'Acme (demo)')`
    await db.organization.deleteMany({ where: { name: 'Acme (demo)' } })
    await db.user.deleteMany({ where: { email: DEMO_ACCOUNT.email } })
    await seed(db)
    await seed(db)
    const user = await db.user.findUniqueOrThrow({ where: { email: DEMO_ACCOUNT.email } })
    expect(user.passwordHash).toBe(DEMO_ACCOUNT.passwordHash)
    expect(user.emailVerifiedAt).not.toBeNull()
    const organizations = await db.organization.findMany({
      where: { name: 'Acme (demo)', memberships: { some: { userId: user.id } } },
    })
    expect(organizations).toHaveLength(1)
    const organizationId = organizations[0]?.id as string
    expect(
      await db.membership.findMany({
        where: { organizationId },
        select: { userId: true, role: true },
      }),
    ).toEqual([{ userId: user.id, role: 'owner' }])
    expect(await db.project.count({ where: { organizationId } })).toBe(1)
    expect(await db.task.count({ where: { organizationId, assigneeId: user.id } })).toBe(3)
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
