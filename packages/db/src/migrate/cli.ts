// Migration commands behind `pnpm db:*`. Usage: cli.ts <apply | new <name> | drift | reset | status>

import { parseArgs } from 'node:util'
import { migrationEnv } from '@repo/config'
import { isLocalUrl, loadDevEnvOrExit } from '@repo/config/dev'
import { ensurePrismaClient } from '../../scripts/prisma-generate.mjs'
import { APP_ROLE, ensureAppLogin, WORKER_ROLE } from '../roles.ts'
import {
  applyMigrations,
  createMigration,
  MigrationError,
  migrationStatus,
  pendingMigrationSql,
  resetDatabase,
} from './index.ts'

const env = loadDevEnvOrExit(migrationEnv)

const USAGE =
  'usage: pnpm db:migrate | db:migration:new <name> | db:drift | db:reset | db:status\n' +
  '       node packages/db/src/migrate/cli.ts deploy   (a release: migrate, then the logins)'

/**
 * The logins the application and the worker connect as, from DATABASE_URL and
 * WORKER_DATABASE_URL: created, or given the URL's password, after the migrations have
 * created their roles. What a release runs once before the new code rolls out.
 */
async function ensureLogins(adminUrl: string): Promise<void> {
  const logins = [
    { variable: 'DATABASE_URL', role: APP_ROLE },
    { variable: 'WORKER_DATABASE_URL', role: WORKER_ROLE },
  ] as const
  const owner = decodeURIComponent(new URL(adminUrl).username)
  const users = logins.map(({ variable }) => {
    const value = process.env[variable]
    return value ? decodeURIComponent(new URL(value).username) : ''
  })
  if (users[0] && users[0] === users[1])
    throw new Error(
      `DATABASE_URL and WORKER_DATABASE_URL name the same login "${users[0]}": the API's login must not hold the worker's rights.`,
    )
  for (const { variable, role } of logins) {
    const value = process.env[variable]
    if (!value) {
      console.log(`${variable} is not set: no ${role} login to provision.`)
      continue
    }
    const url = new URL(value)
    const user = decodeURIComponent(url.username)
    const password = decodeURIComponent(url.password)
    if (!user || !password)
      throw new Error(`${variable} must name a user and a password (the login to provision).`)
    if (user === owner)
      throw new Error(
        `${variable} uses the migration owner "${owner}": the application must connect as a login of its own, subject to row-level security.`,
      )
    await ensureAppLogin(adminUrl, { user, password }, role)
    console.log(`login "${user}" is a member of ${role}.`)
  }
}

async function main(args: string[]): Promise<number> {
  // Flags may come anywhere (`reset --force`, `new name --force`).
  const { positionals, values } = parseArgs({
    args,
    allowPositionals: true,
    options: { force: { type: 'boolean', default: false } },
  })
  const [command, name] = positionals
  // Migrations run as the owner; the application's own login may not alter the schema.
  const databaseUrl = env.MIGRATION_DATABASE_URL
  const options = { databaseUrl }
  switch (command) {
    case 'apply':
      await applyMigrations(options)
      return 0
    case 'deploy': {
      // applyMigrations names what it applies.
      const applied = await applyMigrations(options)
      if (applied.length === 0) console.log('no pending migrations.')
      await ensureLogins(databaseUrl)
      return 0
    }
    case 'new': {
      const created = await createMigration({ ...options, name: name ?? '' })
      // The client must match the schema the new migration brings the database to.
      if (ensurePrismaClient({ quiet: true }) === 'generated')
        console.log('regenerated the Prisma client (src/generated/prisma)')
      if (created) console.log('Apply it with `pnpm db:migrate` (pnpm dev applies it on start).')
      return 0
    }
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
    case 'reset': {
      if (process.env.NODE_ENV === 'production') {
        console.error('Refusing to reset a database with NODE_ENV=production.')
        return 1
      }
      const host = new URL(databaseUrl).hostname
      if (!isLocalUrl(databaseUrl) && !values.force) {
        console.error(
          `Refusing to reset the database on ${host}: it is not local. Add --force if you mean it.`,
        )
        return 1
      }
      await resetDatabase(options)
      return 0
    }
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
  // What went wrong, not where in the engine: "Can't reach database server at ..." etc.
  const message = error instanceof Error ? error.message : String(error)
  console.error(error instanceof MigrationError ? `Migration failed: ${message}` : message)
  if (/can't reach database server/i.test(message))
    console.error(
      'Is `pnpm dev` running? The db:* commands use its database unless .env says otherwise.',
    )
  process.exitCode = 1
}
