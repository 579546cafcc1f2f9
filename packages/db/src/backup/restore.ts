import { createReadStream } from 'node:fs'
import { stat } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { type Readable, Writable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import pg from 'pg'
import { z } from 'zod'
import { applyDatabaseProperties, ensureRoles } from './cluster-objects.ts'
import { decryptStream, parseBackupKey } from './encryption.ts'
import { BackupError, describeDatabase, messageOf } from './errors.ts'
import {
  backupNameOf,
  type Manifest,
  manifestFileOf,
  manifestSchema,
  parseBackupFile,
} from './manifest.ts'
import {
  assertToolCanServe,
  databaseNameOf,
  findPgTool,
  libpqConnection,
  serverVersion,
  withConnection,
  withDatabaseName,
} from './pg-tools.ts'
import { measuring, runTool, toolFailure } from './process-stream.ts'
import { openStorage, type S3Settings, type Storage, splitFileLocation } from './storage.ts'

export interface RestoreOptions {
  /** A dump or its manifest (a path or an s3:// URL), or `latest` (the newest at `destination`). */
  source: string
  destination?: string | undefined
  /** The login that restores: it creates the database (and missing roles), and will own it. */
  databaseUrl: string
  /** Restore into this database instead of the one `databaseUrl` names. */
  database?: string | undefined
  /** Drop the target database when it exists and holds tables. Without it: refused. */
  force?: boolean
  /** The age identity, for an encrypted backup. */
  encryptionKey?: string | undefined
  s3?: S3Settings
  pgBinDir?: string | undefined
  /** Where a backup from S3 is downloaded to be verified. Default: the OS temp dir. */
  tmpDir?: string | undefined
}

export interface RestoreResult {
  name: string
  database: string
  /** When the backup was made. */
  createdAt: string
  tables: number
  /** Roles the backup names that this server lacked, created without LOGIN. */
  createdRoles: string[]
  /** The backup's roles that were logins: the deploy's migrate step gives them their passwords. */
  logins: string[]
  /** True when --force dropped a database that held tables. */
  replaced: boolean
  durationMs: number
}

/**
 * Restores a backup into a fresh database: the manifest is read, the file's size and
 * sha256 checked against it and the key tried, all before the target is touched; then
 * the database is created, the roles it names ensured, and pg_restore runs in a single
 * transaction (a failure leaves nothing; the created database is dropped again).
 */
export async function restoreBackup(options: RestoreOptions): Promise<RestoreResult> {
  const started = Date.now()
  const { storage, name } = await locate(options)
  const manifest = await readManifest(storage, name)
  const key = manifest.encryption ? await identityFor(options.encryptionKey) : undefined
  const pgRestore = await findPgTool('pg_restore', options.pgBinDir)
  if (pgRestore.major < manifest.pgDump.major)
    throw new BackupError(
      'config',
      `${pgRestore.path} is PostgreSQL ${pgRestore.major}; this backup was made by pg_dump ${manifest.pgDump.major}, whose archives it cannot read. Install the PostgreSQL ${manifest.pgDump.major} client tools or set PG_BIN_DIR.`,
    )

  const copy = await storage.localCopy(manifest.file, options.tmpDir ?? tmpdir())
  try {
    await verify(copy.path, manifest, storage.describe(manifest.file))
    const raw = createReadStream(copy.path)
    // The key is tried on the header now, so a wrong one changes nothing on the server.
    const input = key ? await decryptStream(raw, key) : raw
    try {
      return await restoreInto(options, manifest, input, pgRestore, started)
    } finally {
      input.destroy()
    }
  } finally {
    await copy.cleanUp()
  }
}

async function restoreInto(
  options: RestoreOptions,
  manifest: Manifest,
  input: Readable,
  pgRestore: Awaited<ReturnType<typeof findPgTool>>,
  started: number,
): Promise<RestoreResult> {
  const target = options.database ?? databaseNameOf(options.databaseUrl)
  const targetUrl = withDatabaseName(options.databaseUrl, target)
  const prepared = await withMaintenanceConnection(options.databaseUrl, async (admin) => {
    const server = await serverVersion(admin)
    assertToolCanServe(pgRestore, server.major, options.databaseUrl)
    if (server.major < manifest.server.major)
      throw new BackupError(
        'config',
        `the backup comes from PostgreSQL ${manifest.server.major}; the server at ${describeDatabase(options.databaseUrl)} runs ${server.major}. Restore into PostgreSQL ${manifest.server.major} or newer.`,
      )
    const replaced = await prepareTarget(admin, targetUrl, target, Boolean(options.force))
    await createDatabase(admin, target, manifest.database)
    const { created } = await ensureRoles(admin, manifest.roles)
    return { replaced, createdRoles: created }
  })

  const { dbname, env } = libpqConnection(targetUrl)
  // No owner from the dump: the restoring login owns everything, as the migrator that will
  // apply the next migrations. Subscriptions would start replicating: never restored.
  const run = runTool(
    pgRestore.path,
    [
      '--single-transaction',
      '--no-owner',
      '--no-subscriptions',
      '--no-password',
      `--dbname=${dbname}`,
    ],
    env,
    'pipe',
  )
  // A corrupt chunk of an encrypted file errors the input: that is the cause, not the
  // end of input pg_restore then reports.
  let unreadable: unknown
  input.once('error', (error) => {
    unreadable = error
  })
  const [fed, exit] = await Promise.all([
    pipeline(input, run.child.stdin as NodeJS.WritableStream).then(
      () => undefined,
      (error: unknown) => error,
    ),
    run.exited,
  ])
  if (unreadable || exit.code !== 0 || fed) {
    await dropDatabase(options.databaseUrl, target).catch(() => {})
    if (unreadable)
      throw new BackupError(
        'corrupt',
        `the backup could not be read to the end: ${messageOf(unreadable)}`,
      )
    if (exit.code !== 0) throw toolFailure('pg_restore', run, exit)
    throw new BackupError('failed', `could not feed pg_restore: ${messageOf(fed)}`)
  }

  await withMaintenanceConnection(options.databaseUrl, (admin) =>
    applyDatabaseProperties(admin, target, manifest.database),
  )
  const tables = await withConnection(targetUrl, async (client) => {
    // pg_restore leaves the planner without statistics until autovacuum gets there.
    await client.query('ANALYZE')
    const { rows } = await client.query<{ count: number }>(
      `SELECT count(*)::int AS count FROM pg_tables WHERE schemaname NOT IN ('pg_catalog', 'information_schema')`,
    )
    return rows[0]?.count ?? 0
  })
  return {
    name: manifest.name,
    database: target,
    createdAt: manifest.createdAt,
    tables,
    createdRoles: prepared.createdRoles,
    logins: manifest.roles.filter((role) => role.login).map((role) => role.name),
    replaced: prepared.replaced,
    durationMs: Date.now() - started,
  }
}

/** The storage and backup name of `source` (a file, or `latest` at the destination). */
async function locate(options: RestoreOptions): Promise<{ storage: Storage; name: string }> {
  if (options.source === 'latest') {
    if (!options.destination)
      throw new BackupError(
        'usage',
        '`latest` means the newest backup at BACKUP_DESTINATION, which is not set',
      )
    const storage = await openStorage(options.destination, options.s3)
    const newest = (await storage.list())
      .filter((file) => file.endsWith('.manifest.json'))
      .map((file) => parseBackupFile(file))
      .filter((backup) => backup !== undefined)
      .sort((a, b) => b.createdAt.getTime() - a.createdAt.getTime())[0]
    if (!newest) throw new BackupError('missing', `no backup at ${storage.describe()}`)
    return { storage, name: newest.name }
  }
  const { location, name: file } = splitFileLocation(options.source)
  const name = backupNameOf(file)
  if (!name)
    throw new BackupError(
      'usage',
      `${options.source} is not a backup: name a .dump, .dump.age or .manifest.json file`,
    )
  return { storage: await openStorage(location, options.s3), name }
}

async function readManifest(storage: Storage, name: string): Promise<Manifest> {
  const file = manifestFileOf(name)
  let text = ''
  try {
    for await (const chunk of await storage.read(file)) text += chunk
  } catch (error) {
    if (error instanceof BackupError && error.kind === 'missing')
      throw new BackupError(
        'missing',
        `${storage.describe(file)} does not exist: a backup is complete only with its manifest`,
        { cause: error },
      )
    throw error
  }
  let parsed: ReturnType<typeof manifestSchema.safeParse> | undefined
  try {
    parsed = manifestSchema.safeParse(JSON.parse(text))
  } catch {}
  if (!parsed?.success)
    throw new BackupError(
      'corrupt',
      `${storage.describe(file)} is not a backup manifest${parsed ? `: ${z.prettifyError(parsed.error).replaceAll('\n', ' ')}` : ' (not JSON)'}`,
    )
  return parsed.data
}

async function identityFor(value: string | undefined): Promise<string> {
  if (!value)
    throw new BackupError(
      'config',
      'this backup is encrypted: set BACKUP_ENCRYPTION_KEY to the age identity (AGE-SECRET-KEY-1...) it was made for',
    )
  const key = await parseBackupKey(value)
  if (key.kind === 'recipient')
    throw new BackupError(
      'config',
      'BACKUP_ENCRYPTION_KEY holds a recipient (age1...), which only encrypts: restoring needs its identity (AGE-SECRET-KEY-1...)',
    )
  return key.identity
}

/** The file is the one the manifest describes: same size, same sha256. */
async function verify(path: string, manifest: Manifest, where: string) {
  const { size } = await stat(path)
  const measure = measuring()
  await pipeline(
    createReadStream(path),
    measure,
    new Writable({ write: (_chunk, _encoding, done) => done() }),
  )
  const { sha256 } = measure.result()
  if (size !== manifest.sizeBytes || sha256 !== manifest.sha256)
    throw new BackupError(
      'corrupt',
      `${where} is not the file its manifest describes (${size} bytes, sha256 ${sha256.slice(0, 12)}...; expected ${manifest.sizeBytes} bytes, ${manifest.sha256.slice(0, 12)}...): it is corrupt or truncated`,
    )
}

/**
 * Clears the way for a fresh `target`: refuses (unless `force`) when it exists and holds
 * tables; an existing empty one is dropped too. True when tables were dropped.
 */
async function prepareTarget(
  admin: pg.Client,
  targetUrl: string,
  target: string,
  force: boolean,
): Promise<boolean> {
  const { rowCount } = await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [target])
  let replaced = false
  if (rowCount) {
    const tables = await withConnection(targetUrl, async (client) => {
      const { rows } = await client.query<{ count: number }>(
        `SELECT count(*)::int AS count FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
          WHERE c.relkind IN ('r', 'p') AND n.nspname NOT IN ('pg_catalog', 'information_schema')
            AND n.nspname NOT LIKE 'pg_toast%'`,
      )
      return rows[0]?.count ?? 0
    })
    if (tables > 0 && !force)
      throw new BackupError(
        'refused',
        `refusing to restore into "${target}" at ${describeDatabase(targetUrl)}: it exists and holds ${tables} tables. Restore into another database (--database <name>), or add --force to drop it and restore in its place.`,
      )
    replaced = tables > 0
    // DROP ... WITH (FORCE) ends the sessions still connected (the apps, when forced).
    await admin.query(`DROP DATABASE ${pg.escapeIdentifier(target)} WITH (FORCE)`)
  }
  return replaced
}

/** The database as the source was made: same encoding and locale, from template0. */
async function createDatabase(admin: pg.Client, target: string, source: Manifest['database']) {
  try {
    await admin.query(
      `CREATE DATABASE ${pg.escapeIdentifier(target)} TEMPLATE template0 ENCODING ${pg.escapeLiteral(source.encoding)} LC_COLLATE ${pg.escapeLiteral(source.collate)} LC_CTYPE ${pg.escapeLiteral(source.ctype)}`,
    )
  } catch (error) {
    throw new BackupError(
      'config',
      `cannot create "${target}" as the source was made (${source.encoding}, locale ${source.collate}): ${messageOf(error)}`,
      { cause: error },
    )
  }
}

async function dropDatabase(url: string, target: string) {
  await withMaintenanceConnection(url, (admin) =>
    admin.query(`DROP DATABASE IF EXISTS ${pg.escapeIdentifier(target)} WITH (FORCE)`),
  )
}

/** A connection to the server's `postgres` database, to create and drop others. */
function withMaintenanceConnection<T>(url: string, work: (admin: pg.Client) => Promise<T>) {
  return withConnection(withDatabaseName(url, 'postgres'), work)
}
