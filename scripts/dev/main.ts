// `pnpm dev`: provisions Postgres and Redis, migrates and seeds, then runs api, web and
// worker with prefixed logs. Ctrl-C stops everything it started.
import { spawn } from 'node:child_process'
import { existsSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { devDefaults } from '@repo/config'
import { createDatabaseClient, ensureAppLogin, WORKER_ROLE } from '@repo/db'
import { applyMigrations } from '@repo/db/migrate'
import { seed } from '@repo/db/seed'
import { type SmtpSink, startSmtpSink } from '@repo/testing'
import { isPortInUse, startReaper } from '@repo/testing/servers'
import pg from 'pg'
import { acquireDevLock } from './lock.ts'
import { type DevServices, startDevServices } from './services.ts'

const repoRoot = resolve(import.meta.dirname, '../..')
const envFile = join(repoRoot, '.env')
if (existsSync(envFile)) process.loadEnvFile(envFile)

const env = {
  DATABASE_URL: process.env.DATABASE_URL || devDefaults.DATABASE_URL,
  // The worker's own login, on the same server and database as DATABASE_URL.
  WORKER_DATABASE_URL:
    process.env.WORKER_DATABASE_URL ||
    workerLoginOn(process.env.DATABASE_URL || devDefaults.DATABASE_URL),
  MIGRATION_DATABASE_URL: process.env.MIGRATION_DATABASE_URL || devDefaults.MIGRATION_DATABASE_URL,
  REDIS_URL: process.env.REDIS_URL || devDefaults.REDIS_URL,
  mode: (process.env.GROUNDWORK_DEV_SERVICES ?? 'auto') as 'auto' | 'docker' | 'local',
  dataDir: process.env.GROUNDWORK_DATA_DIR ?? '.data',
  apps: (process.env.GROUNDWORK_DEV_APPS ?? 'api,web,worker')
    .split(',')
    .map((app) => app.trim())
    .filter(Boolean),
}
const log = (message: string) => console.log(`\x1b[36m[dev]\x1b[0m ${message}`)

if (!['auto', 'docker', 'local'].includes(env.mode)) {
  console.error(`GROUNDWORK_DEV_SERVICES must be auto, docker or local (got "${env.mode}").`)
  process.exit(1)
}

let services: DevServices | undefined
let mailSink: SmtpSink | undefined
let apps: { pid: number; exited: Promise<void> } | undefined
let stopping: Promise<void> | undefined
let releaseLock: (() => Promise<void>) | undefined

/** Stops the apps (their whole process group), then the services. Idempotent. */
function stop(exitCode: number): Promise<void> {
  stopping ??= (async () => {
    if (apps) {
      log('stopping apps')
      signalGroup(apps.pid, 'SIGTERM')
      const pid = apps.pid
      const timer = setTimeout(() => signalGroup(pid, 'SIGKILL'), 15_000)
      await apps.exited
      clearTimeout(timer)
    }
    await mailSink?.close()
    if (services) {
      log('stopping Postgres and Redis')
      await services.stop().catch((error) => console.error(error))
    }
    await releaseLock?.()
    log('stopped')
    process.exit(exitCode)
  })()
  return stopping
}

function signalGroup(pid: number, signal: NodeJS.Signals) {
  try {
    process.kill(-pid, signal)
  } catch {}
}

process.on('SIGINT', () => void stop(0))
process.on('SIGTERM', () => void stop(0))

try {
  releaseLock = await acquireDevLock(resolve(repoRoot, env.dataDir))
  services = await startDevServices({
    mode: env.mode,
    // The server is started with the owner's credentials; the app login is created below.
    databaseUrl: env.MIGRATION_DATABASE_URL,
    redisUrl: env.REDIS_URL,
    dataDir: env.dataDir,
    repoRoot,
    log,
  })
  log(`services up: ${services.description}`)

  await ensureDatabase(env.MIGRATION_DATABASE_URL)
  await applyMigrations({ databaseUrl: env.MIGRATION_DATABASE_URL, log })
  const appLogin = new URL(env.DATABASE_URL)
  await ensureAppLogin(env.MIGRATION_DATABASE_URL, {
    user: decodeURIComponent(appLogin.username),
    password: decodeURIComponent(appLogin.password),
  })
  const workerLogin = new URL(env.WORKER_DATABASE_URL)
  await ensureAppLogin(
    env.MIGRATION_DATABASE_URL,
    {
      user: decodeURIComponent(workerLogin.username),
      password: decodeURIComponent(workerLogin.password),
    },
    WORKER_ROLE,
  )
  // Seed data spans tenants: written as the owner, not through row-level security.
  const db = createDatabaseClient({
    DATABASE_URL: env.MIGRATION_DATABASE_URL,
    DATABASE_POOL_MAX: 2,
    DATABASE_CONNECT_TIMEOUT_MS: 5_000,
    DATABASE_STATEMENT_TIMEOUT_MS: 30_000,
  })
  try {
    await seed(db)
  } finally {
    await db.$disconnect()
  }
  log('database migrated and seeded')
  mailSink = await startMailSink(process.env.SMTP_URL || 'smtp://127.0.0.1:1025')
} catch (error) {
  console.error(`\n${error instanceof Error ? error.message : String(error)}\n`)
  await stop(1)
}

const filters = env.apps.flatMap((app) => ['--filter', `@repo/${app}`])
log(
  `starting ${env.apps.join(', ')} (api :${process.env.API_PORT ?? 4000}, web :${process.env.WEB_PORT ?? 3000})`,
)
if (!stopping) startApps()

function startApps() {
  // Own process group, so shutdown can signal turbo and every app under it at once.
  const child = spawn('pnpm', ['exec', 'turbo', 'run', 'dev', '--ui=stream', ...filters], {
    cwd: repoRoot,
    stdio: 'inherit',
    detached: true,
    env: {
      ...process.env,
      DATABASE_URL: env.DATABASE_URL,
      WORKER_DATABASE_URL: env.WORKER_DATABASE_URL,
      REDIS_URL: env.REDIS_URL,
      LOG_PRETTY: process.env.LOG_PRETTY ?? 'true',
      NEXT_TELEMETRY_DISABLED: '1',
    },
  })
  if (!child.pid) throw new Error('could not start turbo')
  // Resolves however the apps end: exit code or signal.
  const exited = new Promise<void>((done) => child.once('exit', () => done()))
  apps = { pid: child.pid, exited }
  // If this process is killed outright, the reaper stops the apps' process group too.
  startReaper({ pid: -child.pid, signal: 'SIGTERM', paths: [] })
  child.once('exit', (code, signal) => {
    if (stopping) return
    log(`apps exited (${signal ?? `code ${code}`}); stopping services`)
    void stop(code ?? 1)
  })
}

/**
 * Development mail: a local SMTP sink on SMTP_URL's port that prints every message it
 * receives (links included), so sign-up and reset flows work without a mail provider.
 * Skipped when SMTP_URL points elsewhere or the port is taken.
 */
async function startMailSink(smtpUrl: string): Promise<SmtpSink | undefined> {
  const url = new URL(smtpUrl)
  if (!['127.0.0.1', 'localhost'].includes(url.hostname)) return undefined
  const port = Number(url.port || 25)
  if (await isPortInUse(port)) {
    log(`port ${port} is taken; not starting the development mail sink`)
    return undefined
  }
  const sink = await startSmtpSink({
    port,
    onMessage: (mail) =>
      log(
        `mail to ${mail.to.join(', ')}: ${mail.subject}\n${mail.text.trim().replace(/^/gm, '      ')}`,
      ),
  })
  log(`development mail sink on smtp://127.0.0.1:${port} (messages are printed here)`)
  return sink
}

/** Creates the application database on first run (Compose creates it itself). */
async function ensureDatabase(url: string) {
  const target = new URL(url)
  const name = target.pathname.slice(1)
  if (!/^[a-z_][a-z0-9_]*$/.test(name))
    throw new Error(`The database name "${name}" must be lower-case letters, digits and _`)
  const admin = new URL(url)
  admin.pathname = '/postgres'
  const client = new pg.Client({ connectionString: admin.toString() })
  await client.connect()
  try {
    const { rowCount } = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [name])
    if (!rowCount) {
      await client.query(`CREATE DATABASE ${pg.escapeIdentifier(name)}`)
      log(`created database ${name}`)
    }
  } finally {
    await client.end()
  }
}

/** DATABASE_URL with the development worker login's credentials. */
function workerLoginOn(databaseUrl: string) {
  const url = new URL(databaseUrl)
  const worker = new URL(devDefaults.WORKER_DATABASE_URL)
  url.username = worker.username
  url.password = worker.password
  return url.toString()
}
