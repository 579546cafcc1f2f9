import { devDefaults } from '@repo/config'
import { defineConfig } from 'prisma/config'

// DATABASE_URL is only needed by commands that reach a database; `prisma generate` runs
// without it (CI and fresh clones generate before any database exists).
export default defineConfig({
  schema: 'prisma/schema.prisma',
  migrations: { path: 'prisma/migrations', seed: 'node src/seed.ts' },
  datasource: { url: process.env.DATABASE_URL || devDefaults.DATABASE_URL },
})
