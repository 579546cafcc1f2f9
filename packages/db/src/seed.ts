import { databaseEnv, loadEnvOrExit } from '@repo/config'
import { loadDevEnv } from '@repo/config/dev'
import { createDatabaseClient } from './client.ts'
import type { TaskPriority, TaskStatus } from './generated/prisma/enums.ts'

/**
 * The demo account `pnpm dev` prints: public development data, never a real credential.
 * The hash is Argon2id with the parameters packages/auth uses (a test there checks that it
 * verifies), kept here because packages/auth depends on this package, not the other way.
 */
export const DEMO_ACCOUNT = {
  email: 'demo@groundwork.dev',
  password: 'ship-the-product',
  passwordHash:
    '$argon2id$v=19$m=19456,t=2,p=1$8qgX8AKKDkK6fxGnxH/qVg$hl9mG5fTG8IqVKFUOvYFyATwiXOAk0QX7E1o8KvrZrk',
} as const

const DEMO_ORGANIZATION = 'Acme (demo)'
const DEMO_PROJECT = 'Website relaunch'

/**
 * Development data: a verified demo account that owns an organization with one project and
 * a few tasks, so sign-in works at once. Idempotent: running it again creates nothing new
 * and leaves what a developer changed alone, so `pnpm dev` seeds on every start. Never run
 * it against production.
 */
export async function seed(db: ReturnType<typeof createDatabaseClient>): Promise<void> {
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

  const organization =
    (await db.organization.findFirst({ where: { name: DEMO_ORGANIZATION } })) ??
    (await db.organization.create({ data: { name: DEMO_ORGANIZATION } }))
  await db.membership.upsert({
    where: { organizationId_userId: { organizationId: organization.id, userId: user.id } },
    create: { organizationId: organization.id, userId: user.id, role: 'owner' },
    update: {},
  })

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
  loadDevEnv()
  // Seeding writes every tenant's rows: it runs as the owner, not the RLS-bound app login.
  const env = loadEnvOrExit(databaseEnv, {
    ...process.env,
    DATABASE_URL: process.env.MIGRATION_DATABASE_URL,
  })
  if (process.env.NODE_ENV === 'production') {
    console.error('Refusing to seed demo data with NODE_ENV=production.')
    process.exit(1)
  }
  const db = createDatabaseClient(env)
  try {
    await seed(db)
  } finally {
    await db.$disconnect()
  }
}
