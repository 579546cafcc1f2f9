import { execFileSync, spawn } from 'node:child_process'
import { existsSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { startLocalPostgres, startOnFreePort } from '@repo/testing/servers'
import pg from 'pg'
import { applyMigrations } from '../src/migrate/index.ts'
import { ensureAppLogin, WORKER_ROLE } from '../src/roles.ts'

/**
 * The drills need a PostgreSQL server no newer than the installed pg_dump (which refuses
 * a newer server): the server binaries of pg_dump's own major, Debian's layout unless
 * GROUNDWORK_DRILL_PG_BIN names them. CI provisions them (.ci/provision); elsewhere a
 * missing install skips the drills with the reason, and CI fails instead.
 */
export function drillBinaries(): { binDir: string; major: number } | { missing: string } {
  let major: number
  try {
    const version = execFileSync('pg_dump', ['--version'], { encoding: 'utf8' })
    major = Number(/\(PostgreSQL\) (\d+)/.exec(version)?.[1])
  } catch {
    return missing('pg_dump is not on PATH (Debian: postgresql-client-15)')
  }
  const binDir = process.env.GROUNDWORK_DRILL_PG_BIN ?? `/usr/lib/postgresql/${major}/bin`
  if (!existsSync(`${binDir}/initdb`) || !existsSync(`${binDir}/postgres`))
    return missing(
      `no PostgreSQL ${major} server binaries in ${binDir} (Debian: postgresql-${major}; or set GROUNDWORK_DRILL_PG_BIN)`,
    )
  return { binDir, major }
}

function missing(reason: string) {
  if (process.env.CI) throw new Error(`The backup drills cannot run in CI: ${reason}`)
  console.warn(`skipping the backup drills: ${reason}`)
  return { missing: reason }
}

export const TEST_LOGINS = {
  app: { user: 'groundwork_test_app', password: 'groundwork_test_app' },
  worker: { user: 'groundwork_test_worker', password: 'groundwork_test_worker' },
}

export interface DrillServer {
  /** Superuser URL of the `postgres` database. */
  url: string
  pid: number
  /** The URL of database `name` (optionally as another login). */
  urlOf(name: string, login?: { user: string; password: string }): string
  stop(): Promise<void>
}

/** A throwaway server of pg_dump's major on 127.0.0.1, removed when stopped. */
export async function startDrillServer(
  binDir: string,
  options: { settings?: string[]; dataDir?: string } = {},
): Promise<DrillServer> {
  const server = await startOnFreePort((port) =>
    startLocalPostgres({
      dataDir: options.dataDir ?? `/tmp/groundwork-drill-${process.pid}-${port}`,
      port,
      persistent: false,
      ephemeral: !options.settings,
      binDir,
      ...(options.settings ? { settings: options.settings } : {}),
    }),
  )
  return {
    url: server.url,
    pid: server.pid as number,
    urlOf(name, login) {
      const url = new URL(server.url)
      url.pathname = `/${name}`
      if (login) {
        url.username = login.user
        url.password = login.password
      }
      return url.toString()
    },
    stop: () => server.stop(),
  }
}

/** Creates `name`, migrates it with the project's migrator, and creates the app and worker logins. */
export async function createMigratedDatabase(server: DrillServer, name: string): Promise<string> {
  await sql(server.url, `CREATE DATABASE ${pg.escapeIdentifier(name)}`)
  const url = server.urlOf(name)
  await applyMigrations({ databaseUrl: url, log: () => {} })
  await ensureAppLogin(server.url, TEST_LOGINS.app)
  await ensureAppLogin(server.url, TEST_LOGINS.worker, WORKER_ROLE)
  return url
}

export async function sql<T extends pg.QueryResultRow = Record<string, unknown>>(
  url: string,
  query: string,
  values: unknown[] = [],
): Promise<T[]> {
  const client = new pg.Client({ connectionString: url })
  await client.connect()
  try {
    return (await client.query<T>(query, values)).rows
  } finally {
    await client.end()
  }
}

const cli = fileURLToPath(new URL('../src/backup/cli.ts', import.meta.url))

/** Runs the backup CLI (`pnpm db:backup` / `db:restore`) in a process of its own. */
export function runCli(
  args: string[],
  env: Record<string, string | undefined>,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [cli, ...args], {
      env: { PATH: process.env.PATH, NODE_ENV: 'test', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (chunk) => (stdout += chunk))
    child.stderr.on('data', (chunk) => (stderr += chunk))
    child.once('close', (code) => resolve({ code, stdout, stderr }))
  })
}

/**
 * Everything a restore must bring back, as comparable values: each table's row count and
 * the md5 of its rows in order, sequences, row-level security (flags and policies),
 * privileges on tables, functions, schemas and the database, default privileges,
 * functions, constraints, indexes and triggers, and the roles with their memberships.
 */
export async function snapshot(url: string) {
  const client = new pg.Client({ connectionString: url })
  await client.connect()
  try {
    const rows = async (query: string) => (await client.query(query)).rows
    const tables = await rows(
      `SELECT format('%I.%I', schemaname, tablename) AS name FROM pg_tables
        WHERE schemaname NOT IN ('pg_catalog', 'information_schema') ORDER BY 1`,
    )
    const data: Record<string, { rows: number; md5: string }> = {}
    for (const { name } of tables) {
      const [row] = await rows(
        `SELECT count(*)::int AS rows,
                md5(coalesce(string_agg(t::text, E'\\n' ORDER BY t::text), '')) AS md5
           FROM ${name} t`,
      )
      data[name] = row as { rows: number; md5: string }
    }
    const role = `CASE WHEN a.grantee = 0 THEN 'PUBLIC' ELSE pg_get_userbyid(a.grantee) END`
    return {
      data,
      sequences: await rows(
        `SELECT schemaname, sequencename, last_value FROM pg_sequences ORDER BY 1, 2`,
      ),
      rowSecurity: await rows(
        `SELECT c.relname, c.relrowsecurity, c.relforcerowsecurity FROM pg_class c
           JOIN pg_namespace n ON n.oid = c.relnamespace
          WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p') ORDER BY 1`,
      ),
      policies: await rows(
        `SELECT tablename, policyname, permissive, roles::text, cmd, qual, with_check
           FROM pg_policies ORDER BY 1, 2`,
      ),
      tablePrivileges: await rows(
        `SELECT c.relname, ${role} AS grantee, a.privilege_type FROM pg_class c
           JOIN pg_namespace n ON n.oid = c.relnamespace,
                aclexplode(coalesce(c.relacl, acldefault(CASE WHEN c.relkind = 'S' THEN 's' ELSE 'r' END::"char", c.relowner))) a
          WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f') ORDER BY 1, 2, 3`,
      ),
      functionPrivileges: await rows(
        `SELECT p.oid::regprocedure::text AS function, ${role} AS grantee, a.privilege_type
           FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace,
                aclexplode(coalesce(p.proacl, acldefault('f', p.proowner))) a
          WHERE n.nspname = 'public' ORDER BY 1, 2, 3`,
      ),
      schemaPrivileges: await rows(
        `SELECT n.nspname, ${role} AS grantee, a.privilege_type FROM pg_namespace n,
                aclexplode(coalesce(n.nspacl, acldefault('n', n.nspowner))) a
          WHERE n.nspname = 'public' ORDER BY 1, 2, 3`,
      ),
      defaultPrivileges: await rows(
        `SELECT d.defaclobjtype, ${role} AS grantee, a.privilege_type FROM pg_default_acl d,
                aclexplode(d.defaclacl) a ORDER BY 1, 2, 3`,
      ),
      databasePrivileges: await rows(
        `SELECT ${role} AS grantee, a.privilege_type FROM pg_database d,
                aclexplode(coalesce(d.datacl, acldefault('d', d.datdba))) a
          WHERE d.datname = current_database() ORDER BY 1, 2`,
      ),
      functions: await rows(
        `SELECT p.oid::regprocedure::text AS function, p.prosecdef, p.proconfig,
                md5(pg_get_functiondef(p.oid)) AS definition
           FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
          WHERE n.nspname = 'public' ORDER BY 1`,
      ),
      constraints: await rows(
        // A CHECK's text can change in a round trip (Postgres deparses `IN (...)` on varchar
        // anew): its name and kind must match, every other constraint's whole definition.
        `SELECT conrelid::regclass::text AS "table", conname, contype,
                CASE WHEN contype = 'c' THEN NULL ELSE pg_get_constraintdef(oid) END AS definition
           FROM pg_constraint WHERE connamespace = 'public'::regnamespace ORDER BY 1, 2`,
      ),
      indexes: await rows(
        `SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = 'public' ORDER BY 1`,
      ),
      triggers: await rows(
        `SELECT tgrelid::regclass::text AS "table", tgname, pg_get_triggerdef(oid) AS definition
           FROM pg_trigger WHERE NOT tgisinternal ORDER BY 1, 2`,
      ),
      roles: await rows(
        `SELECT r.rolname, r.rolcanlogin, r.rolsuper, r.rolbypassrls, r.rolinherit,
                r.rolcreaterole, r.rolcreatedb,
                array(SELECT g.rolname FROM pg_auth_members m JOIN pg_roles g ON g.oid = m.roleid
                       WHERE m.member = r.oid ORDER BY 1) AS member_of
           FROM pg_roles r WHERE r.rolname LIKE 'groundwork%' ORDER BY 1`,
      ),
    }
  } finally {
    await client.end()
  }
}
