import { databaseEnv, loadEnvOrExit } from '@repo/config'
import { createDatabaseClient } from './client.ts'
import { loadDevEnv } from './load-dev-env.ts'

/**
 * Development data. Idempotent: running it again changes nothing, so `pnpm dev` seeds on
 * every start. Never run it against production.
 */
export async function seed(db: ReturnType<typeof createDatabaseClient>): Promise<void> {
  await db.user.upsert({
    where: { email: 'demo@groundwork.dev' },
    create: { email: 'demo@groundwork.dev', name: 'Demo User' },
    update: {},
  })
  const existing = await db.organization.findFirst({ where: { name: 'Acme (demo)' } })
  if (!existing) await db.organization.create({ data: { name: 'Acme (demo)' } })
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
