// Migration commands behind `pnpm db:*`. Usage: cli.ts <apply | new <name> | drift | reset | status>
import { existsSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import {
  applyMigrations,
  createMigration,
  MigrationError,
  migrationStatus,
  pendingMigrationSql,
  resetDatabase,
} from './index.ts'

const rootEnv = fileURLToPath(new URL('../../../../.env', import.meta.url))
if (existsSync(rootEnv)) process.loadEnvFile(rootEnv)

const USAGE = 'usage: pnpm db:migrate | db:migration:new <name> | db:drift | db:reset | db:status'

async function main([command, name]: string[]): Promise<number> {
  const databaseUrl = process.env.DATABASE_URL
  if (!databaseUrl) {
    console.error('DATABASE_URL is not set. Start the stack with `pnpm dev` (or set it in .env).')
    return 1
  }
  const options = { databaseUrl }
  switch (command) {
    case 'apply':
      await applyMigrations(options)
      return 0
    case 'new':
      await createMigration({ ...options, name: name ?? '' })
      return 0
    case 'drift': {
      const sql = await pendingMigrationSql(options)
      if (!sql) {
        console.log('schema.prisma and the migrations agree.')
        return 0
      }
      console.error(
        'Drift: schema.prisma and prisma/migrations disagree. The missing migration would be:\n',
      )
      console.error(sql)
      console.error('Run `pnpm db:migration:new <name>` to create it.')
      return 2
    }
    case 'reset':
      if (process.env.NODE_ENV === 'production') {
        console.error('Refusing to reset a database with NODE_ENV=production.')
        return 1
      }
      await resetDatabase(options)
      return 0
    case 'status': {
      const status = await migrationStatus(options)
      console.log(JSON.stringify(status, null, 2))
      return status.history ||
        status.failedMigrationNames.length ||
        status.editedMigrationNames.length
        ? 1
        : 0
    }
    default:
      console.error(USAGE)
      return 64
  }
}

try {
  process.exitCode = await main(process.argv.slice(2))
} catch (error) {
  console.error(error instanceof MigrationError ? `Migration failed: ${error.message}` : error)
  process.exitCode = 1
}
