import { createHash } from 'node:crypto'
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createTestDatabase } from '@repo/testing'
import pg from 'pg'
import { afterAll, describe, expect, it } from 'vitest'
import { defaultPaths } from '../src/migrate/files.ts'
import {
  applyMigrations,
  createMigration,
  migrationStatus,
  pendingMigrationSql,
  resetDatabase,
} from '../src/migrate/index.ts'

const quiet = { log: () => {} }
const cleanups: Array<() => Promise<void> | void> = []
afterAll(async () => {
  for (const cleanup of cleanups) await cleanup()
})

async function emptyDatabase() {
  const db = await createTestDatabase({ migrated: false })
  cleanups.push(db.drop)
  return db
}

async function query<T extends pg.QueryResultRow>(url: string, sql: string): Promise<T[]> {
  const client = new pg.Client({ connectionString: url })
  await client.connect()
  try {
    return (await client.query<T>(sql)).rows
  } finally {
    await client.end()
  }
}

/** A copy of schema.prisma and the migrations that a test may change. */
function scratchCopy() {
  const dir = mkdtempSync(join(tmpdir(), 'groundwork-migrations-'))
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }))
  const schemaPath = join(dir, 'schema.prisma')
  const migrationsDir = join(dir, 'migrations')
  cpSync(defaultPaths.schemaPath, schemaPath)
  cpSync(defaultPaths.migrationsDir, migrationsDir, { recursive: true })
  return { schemaPath, migrationsDir }
}

describe('drift check', () => {
  it('finds no drift between schema.prisma and the committed migrations', async () => {
    const db = await emptyDatabase()
    expect(await pendingMigrationSql({ databaseUrl: db.url, ...quiet })).toBe('')
  })

  it('fails when the schema changes without a migration, and passes once one is created', async () => {
    const db = await emptyDatabase()
    const paths = scratchCopy()
    const schema = readFileSync(paths.schemaPath, 'utf8')
    writeFileSync(
      paths.schemaPath,
      schema.replace(/(model User \{\n)/, '$1  nickname String? @db.VarChar(40)\n'),
    )

    const drift = await pendingMigrationSql({ databaseUrl: db.url, ...paths, ...quiet })
    expect(drift).toContain('ALTER TABLE "users" ADD COLUMN     "nickname" VARCHAR(40)')

    const dir = await createMigration({
      databaseUrl: db.url,
      ...paths,
      ...quiet,
      name: 'Add nickname!',
      now: new Date('2030-01-02T03:04:05Z'),
    })
    expect(dir).toMatch(/20300102030405_add_nickname$/)
    expect(await pendingMigrationSql({ databaseUrl: db.url, ...paths, ...quiet })).toBe('')
    // Nothing to create when nothing changed.
    expect(
      await createMigration({ databaseUrl: db.url, ...paths, ...quiet, name: 'noop' }),
    ).toBeUndefined()
    expect(readdirSync(paths.migrationsDir).filter((name) => name.endsWith('_noop'))).toEqual([])
  })

  it('rejects a migration name without letters or digits', async () => {
    const db = await emptyDatabase()
    await expect(createMigration({ databaseUrl: db.url, ...quiet, name: '--' })).rejects.toThrow(
      /needs a name/,
    )
  })
})

describe('apply', () => {
  it('applies every migration once and records it as prisma migrate does', async () => {
    const db = await emptyDatabase()
    const names = readdirSync(defaultPaths.migrationsDir)
      .filter((name) => /^\d{14}_/.test(name))
      .sort()
    expect(await applyMigrations({ databaseUrl: db.url, ...quiet })).toEqual(names)
    expect(await applyMigrations({ databaseUrl: db.url, ...quiet })).toEqual([])

    const rows = await query<{
      migration_name: string
      checksum: string
      finished_at: Date | null
    }>(
      db.url,
      'SELECT migration_name, checksum, finished_at FROM _prisma_migrations ORDER BY migration_name',
    )
    expect(rows.map((row) => row.migration_name)).toEqual(names)
    for (const row of rows) {
      const sql = readFileSync(
        join(defaultPaths.migrationsDir, row.migration_name, 'migration.sql'),
      )
      expect(row.checksum).toBe(createHash('sha256').update(sql).digest('hex'))
      expect(row.finished_at).not.toBeNull()
    }
    const status = await migrationStatus({ databaseUrl: db.url, ...quiet })
    expect(status.failedMigrationNames).toEqual([])
    expect(status.history).toBeNull()
  })

  it('records a failing migration as failed and refuses to go on until it is resolved', async () => {
    const db = await emptyDatabase()
    const paths = scratchCopy()
    const broken = join(paths.migrationsDir, '29990101000000_broken')
    cpSync(
      join(
        paths.migrationsDir,
        readdirSync(paths.migrationsDir).find((n) => /^\d{14}_/.test(n)) ?? '',
      ),
      broken,
      { recursive: true },
    )
    writeFileSync(join(broken, 'migration.sql'), 'ALTER TABLE "users" ADD COLUMN "x" NOT_A_TYPE;')

    await expect(applyMigrations({ databaseUrl: db.url, ...paths, ...quiet })).rejects.toThrow(
      /29990101000000_broken/,
    )
    await expect(applyMigrations({ databaseUrl: db.url, ...paths, ...quiet })).rejects.toThrow(
      /P3009/,
    )
  })

  it('reset drops everything, including data and stray tables, and re-applies', async () => {
    const db = await emptyDatabase()
    await applyMigrations({ databaseUrl: db.url, ...quiet })
    await query(
      db.url,
      `INSERT INTO organizations (id, name, updated_at) VALUES (gen_random_uuid(), 'x', now()); CREATE TABLE stray (id int)`,
    )
    await resetDatabase({ databaseUrl: db.url, ...quiet })
    expect(await query(db.url, 'SELECT * FROM organizations')).toEqual([])
    expect(await query(db.url, "SELECT 1 FROM pg_tables WHERE tablename = 'stray'")).toEqual([])
  })
})
