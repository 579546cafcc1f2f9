import { execFile } from 'node:child_process'
import { accessSync, constants } from 'node:fs'
import { delimiter, join } from 'node:path'
import { promisify } from 'node:util'
import pg from 'pg'
import { BackupError, describeDatabase, messageOf } from './errors.ts'

const run = promisify(execFile)

export interface PgTool {
  path: string
  /** e.g. 15.18 */
  version: string
  major: number
}

function executable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK)
    return true
  } catch {
    return false
  }
}

/**
 * A PostgreSQL client tool (pg_dump, pg_restore): from `binDir` (PG_BIN_DIR) when set,
 * else the first on PATH, with its version.
 */
export async function findPgTool(name: 'pg_dump' | 'pg_restore', binDir?: string): Promise<PgTool> {
  const candidates = binDir
    ? [join(binDir, name)]
    : (process.env.PATH ?? '')
        .split(delimiter)
        .filter(Boolean)
        .map((dir) => join(dir, name))
  const path = candidates.find(executable)
  if (!path)
    throw new BackupError(
      'config',
      binDir
        ? `${name} is not in PG_BIN_DIR (${binDir}).`
        : `${name} is not on PATH. Install the PostgreSQL client tools of your server's major version (Debian: postgresql-client-<major>) or set PG_BIN_DIR to their bin directory.`,
    )
  let output: string
  try {
    output = (await run(path, ['--version'])).stdout
  } catch (error) {
    throw new BackupError('config', `${path} --version failed: ${messageOf(error)}`)
  }
  const match = /\(PostgreSQL\)\s+(\d+)(?:\.(\d+))?/.exec(output)
  if (!match)
    throw new BackupError('config', `cannot read the version of ${path}: ${output.trim()}`)
  return {
    path,
    version: match[2] ? `${match[1]}.${match[2]}` : (match[1] as string),
    major: Number(match[1]),
  }
}

/**
 * pg_dump refuses a server of a newer major, and its dumps are only promised to restore
 * into the same or a newer one: say so before starting, naming both versions.
 */
export function assertToolCanServe(tool: PgTool, serverMajor: number, serverUrl: string) {
  if (tool.major >= serverMajor) return
  throw new BackupError(
    'config',
    `${tool.path} is PostgreSQL ${tool.major}, older than the server at ${describeDatabase(serverUrl)} (PostgreSQL ${serverMajor}). ` +
      `Install the PostgreSQL ${serverMajor} client tools (Debian: postgresql-client-${serverMajor}) and put them on PATH or set PG_BIN_DIR.`,
  )
}

/**
 * What libpq needs to reach `url`, without the password on the command line (where other
 * users of the host could read it): the URL without it, and PGPASSWORD in the environment.
 */
export function libpqConnection(url: string): { dbname: string; env: NodeJS.ProcessEnv } {
  const parsed = new URL(url)
  const password = decodeURIComponent(parsed.password)
  parsed.password = ''
  return {
    dbname: parsed.toString(),
    env: {
      ...process.env,
      ...(password ? { PGPASSWORD: password } : {}),
      PGCONNECT_TIMEOUT: process.env.PGCONNECT_TIMEOUT ?? '10',
      PGAPPNAME: 'groundwork-backup',
    },
  }
}

/** `url` with another database name. */
export function withDatabaseName(url: string, database: string): string {
  const parsed = new URL(url)
  parsed.pathname = `/${encodeURIComponent(database)}`
  return parsed.toString()
}

/** The database name of a Postgres URL. */
export function databaseNameOf(url: string): string {
  const name = decodeURIComponent(new URL(url).pathname.slice(1))
  if (!name)
    throw new BackupError('usage', `the database URL names no database: ${describeDatabase(url)}`)
  return name
}

/** Runs `work` on one connection to `url`; an unreachable server is an `unavailable` error. */
export async function withConnection<T>(
  url: string,
  work: (client: pg.Client) => Promise<T>,
): Promise<T> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 10_000 })
  // A server that goes away mid-session emits 'error' on the client; the query rejects too.
  client.on('error', () => {})
  try {
    await client.connect()
  } catch (error) {
    await client.end().catch(() => {})
    throw new BackupError(
      'unavailable',
      `cannot reach the database at ${describeDatabase(url)}: ${messageOf(error) || (error as { code?: string }).code}`,
      { cause: error },
    )
  }
  try {
    return await work(client)
  } finally {
    await client.end().catch(() => {})
  }
}

/** The server's major version (server_version_num 150018 -> 15). */
export async function serverVersion(
  client: pg.Client,
): Promise<{ version: string; major: number }> {
  const { rows } = await client.query<{ num: string; version: string }>(
    `SELECT current_setting('server_version_num') AS num, current_setting('server_version') AS version`,
  )
  const row = rows[0] as { num: string; version: string }
  return {
    version: row.version.split(' ')[0] as string,
    major: Math.floor(Number(row.num) / 10_000),
  }
}
