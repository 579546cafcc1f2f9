// `pnpm dev` (after start.mjs has checked Node and generated the Prisma client): checks
// what the stack needs, provisions Postgres and Redis, migrates and seeds, then runs api,
// web and worker with prefixed logs and prints where everything is. Ctrl-C stops
// everything it started.
import { spawn } from 'node:child_process'
import { join, resolve } from 'node:path'
import { createDatabaseClient, ensureAppLogin, WORKER_ROLE } from '@repo/db'
import { applyMigrations } from '@repo/db/migrate'
import { seed } from '@repo/db/seed'
import { type SmtpSink, startSmtpSink } from '@repo/testing'
import { isPortInUse, startReaper } from '@repo/testing/servers'
import pg from 'pg'
import { loadDevStackEnv } from './env.ts'
import { acquireDevLock } from './lock.ts'
import { PreflightError, preflight } from './preflight.ts'
import { readyBanner, waitUntilReady } from './ready.ts'
import { fail, log } from './say.mjs'
import { type DevServices, startDevServices } from './services.ts'
import { watchSchema } from './watch-schema.ts'

const startedAt = Date.now()
const repoRoot = resolve(import.meta.dirname, '../..')
const env = loadDevStackEnv()

let services: DevServices | undefined
let mailSink: SmtpSink | undefined
let apps: { pid: number; exited: Promise<void>; dismissReaper: () => void } | undefined
let stopping: Promise<void> | undefined
let releaseLock: (() => Promise<void>) | undefined
let stopWatchingSchema: (() => void) | undefined
let stopRequested!: () => void
const stopped = new Promise<void>((done) => (stopRequested = done))

/** Stops the apps (their whole process group), then the services. Idempotent. */
function stop(exitCode: number): Promise<void> {
  stopRequested()
  stopping ??= (async () => {
    stopWatchingSchema?.()
    if (apps) {
      log('stopping apps')
      signalGroup(apps.pid, 'SIGTERM')
      const pid = apps.pid
      const timer = setTimeout(() => signalGroup(pid, 'SIGKILL'), 15_000)
      await apps.exited
      clearTimeout(timer)
      apps.dismissReaper()
    }
    await mailSink?.close()
    if (services) {
      log('stopping Postgres and Redis')
      await services.stop().catch((error) => fail(String(error?.message ?? error)))
    }
    await releaseLock?.()
    // After a preflight refusal nothing ran: its one line says everything.
    if (apps || services) log('stopped')
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
  releaseLock = await acquireDevLock(resolve(repoRoot, env.GROUNDWORK_DATA_DIR))
  const mode = await preflight(env)
  services = await startDevServices({
    mode,
    // The server is started with the owner's credentials; the app login is created below.
    databaseUrl: env.MIGRATION_DATABASE_URL,
    redisUrl: env.REDIS_URL,
    dataDir: env.GROUNDWORK_DATA_DIR,
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
  mailSink = await startMailSink(env.SMTP_URL)
} catch (error) {
  if (error instanceof PreflightError) for (const problem of error.problems) fail(problem)
  else fail(error instanceof Error ? error.message : String(error))
  await stop(1)
}

log(`starting ${env.GROUNDWORK_DEV_APPS.join(', ')} (api :${env.API_PORT}, web :${env.WEB_PORT})`)
if (!stopping) {
  startApps()
  stopWatchingSchema = watchSchema(join(repoRoot, 'packages/db/prisma'), log)
  if (await waitUntilReady(env, stopped, log))
    console.log(readyBanner(env, mailSink?.url, (Date.now() - startedAt) / 1000))
}

function startApps() {
  const filters = env.GROUNDWORK_DEV_APPS.flatMap((app) => ['--filter', `@repo/${app}`])
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
      // The apps treat an unset NODE_ENV as production and refuse to start without secrets.
      NODE_ENV: process.env.NODE_ENV || 'development',
      LOG_PRETTY: process.env.LOG_PRETTY ?? 'true',
      NEXT_TELEMETRY_DISABLED: '1',
    },
  })
  if (!child.pid) throw new Error('could not start turbo')
  // Resolves however the apps end: exit code or signal.
  const exited = new Promise<void>((done) => child.once('exit', () => done()))
  // If this process is killed outright, the reaper stops the apps' process group too.
  const reaper = startReaper({ pid: -child.pid, signal: 'SIGTERM', paths: [] })
  apps = { pid: child.pid, exited, dismissReaper: reaper.dismiss }
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
