import { defineConfig } from 'prisma/config'

// DATABASE_URL is only needed by commands that reach a database; `prisma generate` runs
// without it (CI and fresh clones generate before any database exists).
export default defineConfig({
  schema: 'prisma/schema.prisma',
  migrations: { path: 'prisma/migrations', seed: 'node src/seed.ts' },
  datasource: { url: process.env.DATABASE_URL ?? 'postgresql://localhost:5432/groundwork' },
})
