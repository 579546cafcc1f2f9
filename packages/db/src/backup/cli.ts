// Backups behind `pnpm db:backup` and `pnpm db:restore`:
//   cli.ts backup | list | keygen
//   cli.ts restore <file | s3-url | latest> [--database <name>] [--force]
// Exit codes: 0 done; 1 invalid environment; otherwise errors.ts (sysexits).

import { resolve } from 'node:path'
import { parseArgs } from 'node:util'
import { backupEnv, migrationEnv, runtimeEnv } from '@repo/config'
import { loadDevEnvOrExit } from '@repo/config/dev'
import { BackupError, EXIT, messageOf } from './errors.ts'
import {
  backupSettingsFromEnv,
  generateKeyPair,
  listBackups,
  restoreBackup,
  runBackup,
} from './index.ts'

const env = loadDevEnvOrExit(
  runtimeEnv
    .pick({ NODE_ENV: true })
    .extend(migrationEnv.partial().shape)
    .extend(backupEnv.shape)
    .superRefine((value, ctx) => {
      if (!value.BACKUP_DATABASE_URL && !value.MIGRATION_DATABASE_URL)
        ctx.addIssue({
          code: 'custom',
          path: ['MIGRATION_DATABASE_URL'],
          message: 'is required (or BACKUP_DATABASE_URL): the database to back up or restore into',
        })
    }),
)

const USAGE = `usage: pnpm db:backup [list | keygen]
       pnpm db:restore <file | s3://bucket/prefix/file | latest> [--database <name>] [--force]`

/** Which command failed, for the first word of its error message. */
let action = 'backup'
const say = (line: string) => process.stdout.write(`${line}\n`)
const megabytes = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(1)} MB`
const s3 = { endpoint: env.BACKUP_S3_ENDPOINT, forcePathStyle: env.BACKUP_S3_FORCE_PATH_STYLE }

function destination(): string {
  if (!env.BACKUP_DESTINATION)
    throw new BackupError(
      'usage',
      'BACKUP_DESTINATION is not set: an absolute directory or s3://bucket/prefix',
    )
  return env.BACKUP_DESTINATION
}

/** pnpm runs the script in packages/db: a relative path means the caller's directory. */
const fromCaller = (file: string) =>
  file.startsWith('s3://') || file === 'latest'
    ? file
    : resolve(process.env.INIT_CWD ?? process.cwd(), file)

const parseOptions = (args: string[]) =>
  parseArgs({
    args,
    allowPositionals: true,
    options: {
      force: { type: 'boolean', default: false },
      database: { type: 'string' },
    },
  })

async function main(args: string[]): Promise<number> {
  let parsed: ReturnType<typeof parseOptions>
  try {
    parsed = parseOptions(args)
  } catch (error) {
    throw new BackupError('usage', `${messageOf(error)}\n${USAGE}`)
  }
  const { positionals, values } = parsed
  // `pnpm db:backup list` arrives as `backup list`.
  const [command, argument] =
    positionals[0] === 'backup' && positionals[1] ? positionals.slice(1) : positionals
  if (command === 'restore') action = 'restore'
  switch (command) {
    case 'backup': {
      const settings = backupSettingsFromEnv({ ...env, BACKUP_DESTINATION: destination() })
      if (!settings) throw new BackupError('usage', USAGE)
      const result = await runBackup(settings)
      say(`backed up ${result.name} to ${result.location}`)
      say(
        `  ${megabytes(result.sizeBytes)}, sha256 ${result.sha256}, ${result.encrypted ? 'encrypted (age)' : 'not encrypted'}, ${(result.durationMs / 1000).toFixed(1)} s`,
      )
      if (result.deleted.length)
        say(`  retention (${settings.retentionDays} days) deleted ${result.deleted.join(', ')}`)
      if (result.retentionError) {
        console.warn(`warning: retention could not delete old backups: ${result.retentionError}`)
      }
      return 0
    }
    case 'list': {
      const backups = await listBackups(destination(), s3)
      if (!backups.length) say(`no backups at ${destination()}`)
      for (const backup of backups)
        say(
          `${backup.file}  ${backup.createdAt}  ${megabytes(backup.sizeBytes)}  PostgreSQL ${backup.server.version}${backup.encryption ? '  encrypted' : ''}`,
        )
      return 0
    }
    case 'keygen': {
      const { identity, recipient } = await generateKeyPair()
      say(`# Keep the identity in your secret manager: without it no encrypted backup can be read.`)
      say(`# identity (encrypts and decrypts; for restores): ${identity}`)
      say(`# recipient (only encrypts; enough for the nightly job): ${recipient}`)
      return 0
    }
    case 'restore': {
      if (!argument) throw new BackupError('usage', USAGE)
      const result = await restoreBackup({
        source: fromCaller(argument),
        destination: env.BACKUP_DESTINATION,
        databaseUrl: (env.BACKUP_DATABASE_URL ?? env.MIGRATION_DATABASE_URL) as string,
        database: values.database,
        force: values.force,
        encryptionKey: env.BACKUP_ENCRYPTION_KEY,
        s3,
        pgBinDir: env.PG_BIN_DIR,
      })
      say(
        `restored ${result.name} (made ${result.createdAt}) into "${result.database}": ${result.tables} tables, ${(result.durationMs / 1000).toFixed(1)} s${result.replaced ? ' (replaced the existing database)' : ''}`,
      )
      if (result.createdRoles.length)
        say(`  created roles (without login): ${result.createdRoles.join(', ')}`)
      say(
        '  next: run the deploy migrate step (`node packages/db/src/migrate/cli.ts deploy`) to apply newer migrations and set the app and worker logins, then point the apps at it',
      )
      return 0
    }
    default:
      console.error(USAGE)
      return EXIT.usage
  }
}

try {
  process.exitCode = await main(process.argv.slice(2))
} catch (error) {
  // What went wrong and what to do, never a stack trace.
  if (error instanceof BackupError) {
    console.error(`${error.kind === 'usage' ? '' : `${action}: `}${error.message}`)
    process.exitCode = error.exitCode
  } else {
    console.error(`${action}: ${messageOf(error)}`)
    process.exitCode = 1
  }
}
