import { databaseEnv, migrationEnv, parseEnv } from '@repo/config'
import { isLocalUrl, loadDevEnvOrExit } from '@repo/config/dev'
import { createDatabaseClient } from './client.ts'
import { DEMO_ACCOUNT, DEMO_ACCOUNTS, DEMO_ORGANIZATION } from './demo-account.ts'
import { DEMO_PROJECTS } from './demo-projects.ts'
import type { MembershipRole } from './generated/prisma/enums.ts'

export { DEMO_ACCOUNT, DEMO_ACCOUNTS } from './demo-account.ts'

type Db = ReturnType<typeof createDatabaseClient>
type Tx = Parameters<Parameters<Db['$transaction']>[0]>[0]

/**
 * The seed made these changes, not a person: its audit entries have no actor and no
 * address, and say `seeded`. It records only what it did, in the transaction that did it,
 * so the demo's audit log is true.
 */
function bySeed(
  tx: Tx,
  organizationId: string,
  entry: { action: string; targetType: string; targetId: string; metadata?: object },
) {
  return tx.auditLog.create({
    data: { organizationId, ...entry, metadata: { seeded: true, ...entry.metadata } },
  })
}

async function addMember(tx: Tx, organizationId: string, userId: string, role: MembershipRole) {
  await tx.membership.create({ data: { organizationId, userId, role } })
  await bySeed(tx, organizationId, {
    action: 'member.added',
    targetType: 'user',
    targetId: userId,
    metadata: { role },
  })
}

/**
 * Development data: verified demo accounts of each role (owner, admin, member) in an
 * organization with a few projects and their tasks, so a newcomer who signs in sees a
 * working product at once. Idempotent: each account, membership and project is created
 * only when it is missing (a project with its tasks), and nothing that exists is changed,
 * so `pnpm dev` seeds on every start and what a developer changed stays. Never run it
 * against production.
 */
export async function seed(db: Db): Promise<void> {
  // The demo accounts' password is in the README: they must never exist in production.
  if (process.env.NODE_ENV === 'production')
    throw new Error('Refusing to seed demo data with NODE_ENV=production.')
  const users = {} as Record<MembershipRole, { id: string }>
  for (const account of DEMO_ACCOUNTS) {
    const user = await db.user.upsert({
      where: { email: account.email },
      create: {
        email: account.email,
        name: account.name,
        passwordHash: account.passwordHash,
        emailVerifiedAt: new Date(),
      },
      update: {},
    })
    // Databases seeded before the demo account could sign in get its password once.
    if (account === DEMO_ACCOUNT && !user.passwordHash)
      await db.user.update({
        where: { id: user.id },
        data: { passwordHash: account.passwordHash, emailVerifiedAt: new Date() },
      })
    users[account.role] = user
  }

  // The demo owner's own organization: never one of someone else's that has the same name.
  // Created with its owner, so a seed that stops half-way cannot leave it unfindable.
  const organizationId =
    (
      await db.organization.findFirst({
        where: { name: DEMO_ORGANIZATION, memberships: { some: { userId: users.owner.id } } },
      })
    )?.id ??
    (await db.$transaction(async (tx) => {
      const { id } = await tx.organization.create({ data: { name: DEMO_ORGANIZATION } })
      await bySeed(tx, id, {
        action: 'organization.created',
        targetType: 'organization',
        targetId: id,
      })
      await addMember(tx, id, users.owner.id, 'owner')
      return id
    }))
  for (const account of DEMO_ACCOUNTS) {
    const userId = users[account.role].id
    const key = { organizationId_userId: { organizationId, userId } }
    // A role a developer changed, or a membership being removed, stays as it is.
    if (await db.membership.findUnique({ where: key })) continue
    await db.$transaction((tx) => addMember(tx, organizationId, userId, account.role))
  }

  const day = 24 * 60 * 60 * 1000
  const today = new Date(new Date().toISOString().slice(0, 10))
  for (const { tasks, ...project } of DEMO_PROJECTS) {
    const projectKey = { organizationId, name: project.name }
    if (await db.project.findUnique({ where: { organizationId_name: projectKey } })) continue
    await db.$transaction(async (tx) => {
      const created = await tx.project.create({ data: { ...project, organizationId } })
      await tx.task.createMany({
        data: tasks.map(({ assignee, dueInDays, ...task }) => ({
          ...task,
          organizationId,
          projectId: created.id,
          assigneeId: assignee ? users[assignee].id : null,
          dueDate: dueInDays === undefined ? null : new Date(today.getTime() + dueInDays * day),
        })),
      })
    })
  }
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
