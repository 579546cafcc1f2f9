import { PassThrough, Readable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import type pg from 'pg'
import { readClusterObjects } from './cluster-objects.ts'
import { encryptStream, parseBackupKey } from './encryption.ts'
import { BackupError, describeDatabase } from './errors.ts'
import {
  MANIFEST_FORMAT,
  type Manifest,
  manifestFileOf,
  parseBackupFile,
  timestampOf,
} from './manifest.ts'
import {
  assertToolCanServe,
  findPgTool,
  libpqConnection,
  serverVersion,
  withConnection,
} from './pg-tools.ts'
import { measuring, runTool, untilSuccessfulExit } from './process-stream.ts'
import { openStorage, type S3Settings, type Storage } from './storage.ts'

export interface BackupOptions {
  /** The database to back up, as a login that reads every row (superuser or BYPASSRLS). */
  databaseUrl: string
  /** An absolute directory, or s3://bucket/prefix. */
  destination: string
  /** An age identity or recipient; unset: the dump is stored unencrypted. */
  encryptionKey?: string | undefined
  /** After a successful backup, this database's backups older than this go; 0 keeps all. */
  retentionDays: number
  s3?: S3Settings
  /** Where pg_dump is (PG_BIN_DIR); unset: PATH. */
  pgBinDir?: string | undefined
  /** Aborting stops pg_dump and the upload; nothing is left under the backup's name. */
  signal?: AbortSignal | undefined
}

export interface BackupResult {
  name: string
  /** Where the dump is (a path or s3:// URL). */
  location: string
  sizeBytes: number
  sha256: string
  encrypted: boolean
  durationMs: number
  /** Backups deleted by retention. */
  deleted: string[]
  /** Retention could not delete (the backup itself succeeded). */
  retentionError?: string
}

/**
 * pg_dump in its custom format (compressed, restorable table by table), streamed through
 * age when a key is set, to a directory or bucket, with a manifest written after it; then
 * retention. Fails before dumping when the destination cannot be written, pg_dump is older
 * than the server, or the login cannot read every row.
 */
export async function runBackup(options: BackupOptions): Promise<BackupResult> {
  const started = new Date()
  const key = options.encryptionKey ? await parseBackupKey(options.encryptionKey) : undefined
  const storage = await openStorage(options.destination, options.s3)
  await storage.assertWritable()
  const pgDump = await findPgTool('pg_dump', options.pgBinDir)
  const source = await withConnection(options.databaseUrl, async (client) => {
    const server = await serverVersion(client)
    assertToolCanServe(pgDump, server.major, options.databaseUrl)
    await assertReadsEveryRow(client, options.databaseUrl)
    return { server, ...(await readClusterObjects(client)) }
  })

  const name = `${source.database.name}-${timestampOf(started)}`
  const file = `${name}.dump${key ? '.age' : ''}`
  const { dbname, env } = libpqConnection(options.databaseUrl)
  const dump = runTool(
    pgDump.path,
    // A migration holding a lock at backup time fails the backup (retried) instead of
    // queueing every query behind pg_dump's wait.
    ['--format=custom', '--no-password', '--lock-wait-timeout=60s', `--dbname=${dbname}`],
    env,
    'ignore',
  )
  const stop = () => dump.child.kill('SIGTERM')
  options.signal?.addEventListener('abort', stop, { once: true })
  try {
    const plain = dump.child.stdout?.pipe(untilSuccessfulExit('pg_dump', dump)) as Readable
    const stored = key ? await encryptStream(plain, key.recipient) : plain
    const measure = measuring()
    const body = new PassThrough()
    const [produced, written] = await Promise.allSettled([
      pipeline(stored, measure, body, options.signal ? { signal: options.signal } : {}),
      storage.write(file, body, options.signal),
    ])
    // The dump's own failure explains a failed write better than the write does.
    if (produced.status === 'rejected') throw produced.reason
    if (written.status === 'rejected') throw written.reason
    const { sizeBytes, sha256 } = measure.result()

    const manifest: Manifest = {
      format: MANIFEST_FORMAT,
      name,
      file,
      createdAt: started.toISOString(),
      completedAt: new Date().toISOString(),
      sizeBytes,
      sha256,
      encryption: key ? { format: 'age', recipient: key.recipient } : null,
      server: source.server,
      pgDump: { version: pgDump.version, major: pgDump.major },
      database: source.database,
      roles: source.roles,
    }
    await storage.write(
      manifestFileOf(name),
      Readable.from([`${JSON.stringify(manifest, null, 2)}\n`]),
    )

    const result: BackupResult = {
      name,
      location: storage.describe(file),
      sizeBytes,
      sha256,
      encrypted: Boolean(key),
      durationMs: Date.now() - started.getTime(),
      deleted: [],
    }
    if (options.retentionDays > 0) {
      try {
        result.deleted = await applyRetention(storage, {
          database: source.database.name,
          keepDays: options.retentionDays,
          keep: name,
        })
      } catch (error) {
        result.retentionError = error instanceof Error ? error.message : String(error)
      }
    }
    return result
  } catch (error) {
    stop()
    if (options.signal?.aborted)
      throw new BackupError('failed', 'the backup was stopped before it completed', {
        cause: error,
      })
    throw error
  } finally {
    options.signal?.removeEventListener('abort', stop)
  }
}

/**
 * pg_dump turns row-level security off and fails on the first table whose policies would
 * hide rows from it (every tenant table is FORCEd, so even its owner): say so up front.
 */
async function assertReadsEveryRow(client: pg.Client, url: string) {
  const { rows } = await client.query<{ login: string; bypass: boolean; tables: string[] }>(
    `SELECT current_user AS login, (r.rolsuper OR r.rolbypassrls) AS bypass,
            array(SELECT format('%I.%I', n.nspname, c.relname) FROM pg_class c
                    JOIN pg_namespace n ON n.oid = c.relnamespace
                   WHERE c.relrowsecurity AND c.relkind IN ('r', 'p')
                     AND (c.relforcerowsecurity OR NOT pg_has_role(current_user, c.relowner, 'USAGE'))
                   ORDER BY 1) AS tables
       FROM pg_roles r WHERE r.rolname = current_user`,
  )
  const { login, bypass, tables } = rows[0] as { login: string; bypass: boolean; tables: string[] }
  if (bypass || tables.length === 0) return
  throw new BackupError(
    'refused',
    `${login} at ${describeDatabase(url)} cannot read every row: row-level security applies to it on ${tables.length} tables (${tables.slice(0, 3).join(', ')}${tables.length > 3 ? ', ...' : ''}). ` +
      'Back up as a superuser or a login WITH BYPASSRLS (BACKUP_DATABASE_URL); see docs/runbooks/backup-and-restore.md.',
  )
}

/**
 * Deletes `database`'s backups made more than `keepDays` ago (dump, manifest, and any
 * leftover of an interrupted one), never `keep`. Returns the names deleted.
 */
export async function applyRetention(
  storage: Storage,
  options: { database: string; keepDays: number; keep: string; now?: Date },
): Promise<string[]> {
  const cutoff = (options.now ?? new Date()).getTime() - options.keepDays * 86_400_000
  const expired = new Map<string, string[]>()
  for (const file of await storage.list()) {
    const backup = parseBackupFile(file)
    if (!backup || backup.name === options.keep) continue
    // Only this database's: `<database>-<timestamp>` exactly (not `<database>-staging-...`).
    if (!backup.name.startsWith(`${options.database}-`)) continue
    if (!/^\d{8}T\d{9}Z$/.test(backup.name.slice(options.database.length + 1))) continue
    if (backup.createdAt.getTime() >= cutoff) continue
    expired.set(backup.name, [...(expired.get(backup.name) ?? []), file])
  }
  const files = [...expired.values()].flat()
  if (files.length) await storage.remove(files)
  return [...expired.keys()].sort()
}
