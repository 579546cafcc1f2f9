import { databaseEnv, migrationEnv, parseEnv } from '@repo/config'
import { isLocalUrl, loadDevEnvOrExit } from '@repo/config/dev'
import { createDatabaseClient } from './client.ts'
import { DEMO_ACCOUNT, DEMO_ORGANIZATION } from './demo-account.ts'
import type { TaskPriority, TaskStatus } from './generated/prisma/enums.ts'

export { DEMO_ACCOUNT } from './demo-account.ts'

const DEMO_PROJECT = 'Website relaunch'

/**
 * Development data: a verified demo account that owns an organization with one project and
 * a few tasks, so sign-in works at once. Idempotent: running it again creates nothing new
 * and leaves what a developer changed alone, so `pnpm dev` seeds on every start. Never run
 * it against production.
 */
export async function seed(db: ReturnType<typeof createDatabaseClient>): Promise<void> {
  // The demo account's password is in the README: it must never exist in production.
  if (process.env.NODE_ENV === 'production')
    throw new Error('Refusing to seed demo data with NODE_ENV=production.')
  const user = await db.user.upsert({
    where: { email: DEMO_ACCOUNT.email },
    create: {
      email: DEMO_ACCOUNT.email,
      name: 'Demo User',
      passwordHash: DEMO_ACCOUNT.passwordHash,
      emailVerifiedAt: new Date(),
    },
    update: {},
  })
  // Databases seeded before the demo account could sign in get its password once.
  if (!user.passwordHash)
    await db.user.update({
      where: { id: user.id },
      data: { passwordHash: DEMO_ACCOUNT.passwordHash, emailVerifiedAt: new Date() },
    })

  // The demo user's own organization: never one of someone else's that has the same name.
  const organization =
    (await db.organization.findFirst({
      where: { name: DEMO_ORGANIZATION, memberships: { some: { userId: user.id } } },
    })) ??
    (await db.organization.create({
      data: {
        name: DEMO_ORGANIZATION,
        memberships: { create: { userId: user.id, role: 'owner' } },
      },
    }))

  const projectKey = { organizationId: organization.id, name: DEMO_PROJECT }
  if (await db.project.findUnique({ where: { organizationId_name: projectKey } })) return
  const project = await db.project.create({
    data: { ...projectKey, description: 'An example project from the seed.' },
  })
  const tasks: { title: string; status: TaskStatus; priority: TaskPriority }[] = [
    { title: 'Draft the new home page', status: 'in_progress', priority: 'high' },
    { title: 'Collect customer quotes', status: 'todo', priority: 'medium' },
    { title: 'Set up redirects for old URLs', status: 'todo', priority: 'low' },
  ]
  await db.task.createMany({
    data: tasks.map((task) => ({
      ...task,
      organizationId: organization.id,
      projectId: project.id,
      assigneeId: user.id,
    })),
  })
}

if (import.meta.main) {
  if (process.env.NODE_ENV === 'production') {
    console.error('Refusing to seed demo data with NODE_ENV=production.')
    process.exit(1)
  }
  // Seeding writes every tenant's rows: it runs as the owner, not the RLS-bound app login.
  const { MIGRATION_DATABASE_URL: url } = loadDevEnvOrExit(migrationEnv)
  if (!isLocalUrl(url) && !process.argv.includes('--force')) {
    console.error(
      `Refusing to seed demo data (an account with a public password) into the database on ${new URL(url).hostname}: it is not local. Add --force if you mean it.`,
    )
    process.exit(1)
  }
  const db = createDatabaseClient(parseEnv(databaseEnv, { DATABASE_URL: url }))
  try {
    await seed(db)
  } finally {
    await db.$disconnect()
  }
}
