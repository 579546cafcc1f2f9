import { mkdir, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { type Engine, engineErrorMessage, filters, openEngine } from './engine.ts'
import {
  defaultPaths,
  LOCK_CONTENT,
  LOCK_FILE,
  type MigrationPaths,
  readMigrations,
  readSchema,
} from './files.ts'

/**
 * Prisma migrations through Prisma's own schema engine, in its WebAssembly build, so they
 * run where the native engine cannot be downloaded. Same folder layout and same
 * `_prisma_migrations` table as `prisma migrate`, which stays usable on machines that
 * have the native engine. See docs/decisions/003-migration-workflow.md.
 */
export interface MigrateOptions extends Partial<MigrationPaths> {
  databaseUrl: string
  /** A database the engine may wipe; default: a throwaway database on the same server. */
  shadowDatabaseUrl?: string
  log?: (message: string) => void
}

export class MigrationError extends Error {
  override name = 'MigrationError'
}

async function withEngine<T>(
  options: MigrateOptions,
  withSchema: boolean,
  work: (engine: Engine, paths: MigrationPaths) => Promise<T>,
): Promise<T> {
  const paths = { ...defaultPaths, ...stripUndefined(options) }
  const engine = await openEngine({
    databaseUrl: options.databaseUrl,
    shadowDatabaseUrl: options.shadowDatabaseUrl ?? process.env.SHADOW_DATABASE_URL,
    ...(withSchema ? { schema: await readSchema(paths.schemaPath) } : {}),
  })
  try {
    return await work(engine, paths)
  } catch (error) {
    throw new MigrationError(engineErrorMessage(error))
  } finally {
    await engine.close()
  }
}

function stripUndefined(options: MigrateOptions): Partial<MigrationPaths> {
  return {
    ...(options.schemaPath ? { schemaPath: options.schemaPath } : {}),
    ...(options.migrationsDir ? { migrationsDir: options.migrationsDir } : {}),
  }
}

/** Applies pending migrations (what `prisma migrate deploy` does). Returns their names. */
export async function applyMigrations(options: MigrateOptions): Promise<string[]> {
  const log = options.log ?? console.log
  try {
    return await withEngine(options, false, async (engine, paths) => {
      const { appliedMigrationNames } = await engine.applyMigrations({
        migrationsList: await readMigrations(paths.migrationsDir),
        filters,
      })
      log(
        appliedMigrationNames.length
          ? `applied migrations: ${appliedMigrationNames.join(', ')}`
          : 'no pending migrations',
      )
      return appliedMigrationNames
    })
  } catch (error) {
    // The engine's error says what SQL failed, not in which migration: name it.
    const failed = await migrationStatus(options).then(
      (status) => status.failedMigrationNames,
      () => [],
    )
    if (failed.length === 0) throw error
    throw new MigrationError(`migration ${failed.join(', ')} failed: ${(error as Error).message}`)
  }
}

/**
 * The SQL that takes the migrations (replayed on a shadow database) to schema.prisma;
 * empty when they agree. A non-empty result in CI is drift.
 */
export async function pendingMigrationSql(options: MigrateOptions): Promise<string> {
  return withEngine(options, true, async (engine, paths) => {
    const { exitCode, stdout } = await engine.diff({
      from: { tag: 'migrations', ...(await readMigrations(paths.migrationsDir)) },
      to: { tag: 'schemaDatamodel', ...(await readSchema(paths.schemaPath)) },
      script: true,
      exitCode: true, // 0: no difference, 2: difference
      filters,
    })
    return exitCode === 2 ? (stdout ?? '') : ''
  })
}

/**
 * Writes a new migration from the schema changes (what `prisma migrate dev --create-only`
 * does). Returns its directory, or undefined when the schema has not changed.
 */
export async function createMigration(
  options: MigrateOptions & { name: string; now?: Date },
): Promise<string | undefined> {
  const log = options.log ?? console.log
  const slug = options.name
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '_')
    .replace(/^_+|_+$/g, '')
    .slice(0, 200)
  if (!slug)
    throw new MigrationError(
      'A migration needs a name of letters or digits, e.g. `pnpm db:migration:new add_projects`.',
    )
  const sql = await pendingMigrationSql(options)
  if (!sql) {
    log('schema.prisma matches the migrations: no migration created')
    return undefined
  }
  const migrationsDir = options.migrationsDir ?? defaultPaths.migrationsDir
  // UTC YYYYMMDDHHMMSS prefix, as Prisma names them, so the order is the creation order.
  const stamp = (options.now ?? new Date()).toISOString().replace(/\D/g, '').slice(0, 14)
  const dir = join(migrationsDir, `${stamp}_${slug}`)
  await mkdir(dir, { recursive: true })
  await writeFile(join(dir, 'migration.sql'), sql)
  await writeFile(join(migrationsDir, LOCK_FILE), LOCK_CONTENT)
  log(`created ${dir}/migration.sql`)
  return dir
}

/** Drops everything in the database, then applies every migration. Development only. */
export async function resetDatabase(options: MigrateOptions): Promise<string[]> {
  await withEngine(options, false, (engine) => engine.reset({ filter: filters }))
  return applyMigrations(options)
}

/** Unapplied, failed or edited migrations in the database (what `prisma migrate status` reports). */
export async function migrationStatus(options: MigrateOptions) {
  return withEngine(options, false, async (engine, paths) =>
    engine.diagnoseMigrationHistory({
      migrationsList: await readMigrations(paths.migrationsDir),
      optInToShadowDatabase: false,
      filters,
    }),
  )
}
