import { execFile, execFileSync } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import {
  chmodSync,
  chownSync,
  copyFileSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { startLocalPostgres, startOnFreePort } from '@repo/testing/servers'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { applyMigrations } from '../src/migrate/index.ts'
import { drillBinaries, sql } from './backup-helpers.ts'

// Point-in-time recovery with pgBackRest, in every CI run: a server archives its WAL to a
// repository (with the repository's own configuration, infra/pgbackrest), a full backup
// is taken, row A is written, the moment is noted by the server's clock, row B is
// written; the server is lost, and infra/pgbackrest/restore-to-time.sh brings a new data
// directory to that moment: A is there, B is not.
const binaries = drillBinaries()
const run = promisify(execFile)
const infra = fileURLToPath(new URL('../../../infra/pgbackrest/', import.meta.url))
const pgbackrestMissing = (() => {
  try {
    execFileSync('pgbackrest', ['version'], { stdio: 'ignore' })
    return false
  } catch {
    if (process.env.CI) throw new Error('pgbackrest is not installed (.ci/provision installs it)')
    console.warn('skipping the point-in-time recovery drill: pgbackrest is not installed')
    return true
  }
})()

/** Postgres runs as the postgres user when we are root; pgBackRest must run as it too. */
function serverUser(): { uid: number; gid: number } | undefined {
  if (process.getuid?.() !== 0) return undefined
  const id = (flag: string) => Number(execFileSync('id', [flag, 'postgres'], { encoding: 'utf8' }))
  return { uid: id('-u'), gid: id('-g') }
}

describe.skipIf('missing' in binaries || pgbackrestMissing)('point-in-time recovery', () => {
  const { binDir } = binaries as { binDir: string }
  const user = serverUser()
  let base = ''
  const path = (name: string) => join(base, name)
  const configFile = () => path('pgbackrest.conf')
  const stops: Array<() => Promise<void>> = []
  beforeAll(() => {
    // The postgres user must reach everything below (a private temp dir would lock it out).
    base = mkdtempSync('/tmp/groundwork-pitr-')
    chmodSync(base, 0o755)
    for (const dir of ['repo', 'log', 'lock', 'spool', 'socket', 'restored']) {
      mkdirSync(path(dir), { mode: 0o700 })
      if (user) chownSync(path(dir), user.uid, user.gid)
    }
  })
  afterAll(async () => {
    for (const stop of stops.reverse()) await stop().catch(() => {})
    if (base) rmSync(base, { recursive: true, force: true })
  })

  /** infra/pgbackrest/pgbackrest.conf with this drill's paths; everything else as shipped. */
  function writeConfig(port: number) {
    const paths: Record<string, string> = {
      'repo1-path': path('repo'),
      'log-path': path('log'),
      'pg1-path': path('data'),
      'pg1-port': String(port),
      'pg1-socket-path': path('socket'),
    }
    const shipped = readFileSync(join(infra, 'pgbackrest.conf'), 'utf8')
    const text = shipped
      .split('\n')
      .map((line) => {
        const key = line.split('=')[0] as string
        return key in paths ? `${key}=${paths[key]}` : line
      })
      .join('\n')
      .replace(
        '[global]\n',
        `[global]\nlock-path=${path('lock')}\nspool-path=${path('spool')}\nrepo1-cipher-pass=${randomBytes(24).toString('base64')}\n`,
      )
    writeFileSync(configFile(), text, { mode: 0o600 })
    if (user) chownSync(configFile(), user.uid, user.gid)
  }

  const pgbackrest = (args: string[], env: NodeJS.ProcessEnv = {}) =>
    run('pgbackrest', [`--config=${configFile()}`, '--stanza=groundwork', ...args], {
      ...(user ?? {}),
      env: { PATH: process.env.PATH, PGPASSWORD: 'postgres', ...env },
      timeout: 120_000,
    })

  it('restores to a moment between two writes: the first is there, the second is not', async () => {
    const server = await startOnFreePort((port) => {
      writeConfig(port)
      return startLocalPostgres({
        dataDir: path('data'),
        port,
        persistent: false,
        binDir,
        settings: [
          'wal_level=replica',
          'archive_mode=on',
          `archive_command=pgbackrest --config=${configFile()} --stanza=groundwork archive-push %p`,
          `unix_socket_directories=${path('socket')}`,
          // A throwaway cluster: no need to survive an OS crash (backups stay consistent).
          'fsync=off',
          'synchronous_commit=off',
        ],
      })
    })
    stops.push(() => server.stop())
    const admin = server.url
    const db = admin.replace(/\/postgres$/, '/groundwork')
    await sql(admin, 'CREATE DATABASE groundwork')
    await applyMigrations({ databaseUrl: db, log: () => {} })

    await pgbackrest(['stanza-create'])
    await pgbackrest(['--type=full', 'backup'])
    // pgBackRest picks a backup that stopped a whole second before the target; this drill's
    // target follows within milliseconds, so it names the backup (--set) instead.
    const [info] = JSON.parse((await pgbackrest(['--output=json', 'info'])).stdout) as Array<{
      backup: Array<{ label: string }>
    }>
    const set = info?.backup.at(-1)?.label as string
    const write = (name: string) =>
      sql(
        db,
        `INSERT INTO organizations (id, name, updated_at) VALUES (gen_random_uuid(), $1, now())`,
        [name],
      )

    await write('A: before the mistake')
    // The moment, by the server's clock, after A committed and before B begins.
    const [{ target } = { target: '' }] = await sql<{ target: string }>(
      db,
      `SELECT to_char(clock_timestamp() AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS.US') || '+00' AS target`,
    )
    await write('B: the mistake')
    // Close the segment holding B and wait (with a deadline) until it is in the repository.
    const [{ segment } = { segment: '' }] = await sql<{ segment: string }>(
      db,
      'SELECT pg_walfile_name(pg_switch_wal()) AS segment',
    )
    const deadline = Date.now() + 30_000
    for (;;) {
      const [stats] = await sql<{ archived: string | null; failed: string | null }>(
        admin,
        'SELECT last_archived_wal AS archived, last_failed_wal AS failed FROM pg_stat_archiver',
      )
      if (stats?.archived && stats.archived >= segment) break
      if (Date.now() > deadline)
        throw new Error(`WAL ${segment} was not archived in time (last failed: ${stats?.failed})`)
      await new Promise((resolve) => setTimeout(resolve, 50))
    }

    // The disaster: the server and its data directory are gone.
    await server.stop()
    stops.pop()

    // A copy in the drill's own directory: the checkout may sit where the server's user
    // cannot reach (a fresh clone in a private temp dir).
    const script = path('restore-to-time.sh')
    copyFileSync(join(infra, 'restore-to-time.sh'), script)
    chmodSync(script, 0o755)
    await run(script, [target, path('restored'), `--config=${configFile()}`, `--set=${set}`], {
      ...(user ?? {}),
      env: { PATH: process.env.PATH },
      timeout: 120_000,
    })
    const restored = await startOnFreePort((port) =>
      startLocalPostgres({
        dataDir: path('restored'),
        port,
        persistent: false,
        binDir,
        settings: [`unix_socket_directories=${path('socket')}`],
      }),
    )
    stops.push(() => restored.stop())
    const restoredDb = restored.url.replace(/\/postgres$/, '/groundwork')
    // Recovery replays to the target, then promotes: the server opens for writes.
    const promotedBy = Date.now() + 30_000
    while ((await sql<{ r: boolean }>(restored.url, 'SELECT pg_is_in_recovery() AS r'))[0]?.r) {
      if (Date.now() > promotedBy) throw new Error('the restored server did not finish recovery')
      await new Promise((resolve) => setTimeout(resolve, 50))
    }
    const names = await sql<{ name: string }>(
      restoredDb,
      'SELECT name FROM organizations ORDER BY name',
    )
    expect(names.map((row) => row.name)).toEqual(['A: before the mistake'])
    // Promoted: it takes writes again, on a new timeline.
    await sql(
      restoredDb,
      `INSERT INTO organizations (id, name, updated_at) VALUES (gen_random_uuid(), 'after recovery', now())`,
    )
  }, 120_000)
})
