import { migrationStatus } from '@repo/db/migrate'
import { firstLine, type OpsContext } from '../context.ts'
import { opsEnv, readEnv } from '../env.ts'
import { EXIT, OpsError } from '../errors.ts'

/**
 * `migrations status`: the database against this build's migrations, through the same
 * engine call as `pnpm db:status` (migrationStatus). Reads the migration history, which
 * only the owner's login may (MIGRATION_DATABASE_URL). Exit 0 when up to date, 7 when not.
 */
export async function migrationsStatus(ctx: OpsContext) {
  const { MIGRATION_DATABASE_URL } = readEnv(opsEnv.migrations, ctx.env)
  let status: Awaited<ReturnType<typeof migrationStatus>>
  try {
    status = await migrationStatus({ databaseUrl: MIGRATION_DATABASE_URL, log: () => {} })
  } catch (error) {
    const message = (error as Error).message
    if (/can't reach database server|connect|timed out/i.test(message))
      throw new OpsError(
        EXIT.unavailable,
        `Cannot reach Postgres to read the migrations: ${firstLine(error)}.`,
      )
    throw error
  }
  const problems: string[] = []
  if (!status.hasMigrationsTable)
    problems.push('No migration has ever been applied to this database.')
  const history = status.history
  if (history?.diagnostic === 'databaseIsBehind')
    problems.push(
      `Not applied yet (the deploy's migrate step applies them): ${history.unappliedMigrationNames.join(', ')}.`,
    )
  if (history?.diagnostic === 'migrationsDirectoryIsBehind')
    problems.push(
      `Applied, but unknown to this build (a newer release applied them; is this an older version?): ${history.unpersistedMigrationNames.join(', ')}.`,
    )
  if (history?.diagnostic === 'historiesDiverge')
    problems.push(
      `The database and this build part after ${history.lastCommonMigrationName ?? 'the start'}: applied but unknown here: ${history.unpersistedMigrationNames.join(', ') || 'none'}; not applied: ${history.unappliedMigrationNames.join(', ') || 'none'}.`,
    )
  if (status.failedMigrationNames.length)
    problems.push(
      `Failed part-way (fix, then mark them resolved before migrating again): ${status.failedMigrationNames.join(', ')}.`,
    )
  if (status.editedMigrationNames.length)
    problems.push(
      `Edited after they were applied (their files differ from what ran): ${status.editedMigrationNames.join(', ')}.`,
    )
  if (problems.length === 0) {
    ctx.out('Up to date: every migration of this build is applied, none failed or was edited.')
    return
  }
  for (const problem of problems) ctx.out(problem)
  throw new OpsError(EXIT.notUpToDate, "The database is not at this build's migrations.")
}
