import { type ChildProcess, execFileSync, spawn } from 'node:child_process'
import { chmodSync, existsSync, mkdtempSync, rmSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { stripVTControlCharacters } from 'node:util'
import { DEMO_ACCOUNT } from '@repo/db/seed'
import { STACK_FRAME } from '@repo/testing'
import { freePort, isPortInUse } from '@repo/testing/servers'
import pg from 'pg'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'

// `pnpm dev` for real: local Postgres and Redis with data in a temp dir, api and worker
// through turbo, then Ctrl-C (SIGINT to the whole process group, as a terminal sends it).
const repoRoot = resolve(import.meta.dirname, '../..')
const dataDir = mkdtempSync(join(tmpdir(), 'groundwork-dev-test-'))
// As root, Postgres runs as the postgres user, which must be able to enter the data dir.
chmodSync(dataDir, 0o755)
const ports = { postgres: 0, redis: 0, api: 0, smtp: 0 }
const started: ChildProcess[] = []

beforeAll(async () => {
  ports.postgres = await freePort()
  ports.redis = await freePort()
  ports.api = await freePort()
  ports.smtp = await freePort()
})
afterAll(() => {
  // Whatever a failed test left running: its whole process group.
  for (const child of started) {
    try {
      if (child.pid) process.kill(-child.pid, 'SIGKILL')
    } catch {}
  }
  rmSync(dataDir, { recursive: true, force: true })
})

const databaseUrl = () => `postgresql://postgres:devpass@127.0.0.1:${ports.postgres}/groundwork`
const appDatabaseUrl = () => `postgresql://devapp:devapppass@127.0.0.1:${ports.postgres}/groundwork`

function startDev(extraEnv: NodeJS.ProcessEnv = {}) {
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    CI: 'true',
    TURBO_TELEMETRY_DISABLED: '1',
    DATABASE_URL: appDatabaseUrl(),
    MIGRATION_DATABASE_URL: databaseUrl(),
    REDIS_URL: `redis://127.0.0.1:${ports.redis}`,
    API_PORT: String(ports.api),
    SMTP_URL: `smtp://127.0.0.1:${ports.smtp}`,
    GROUNDWORK_DEV_SERVICES: 'local',
    GROUNDWORK_DATA_DIR: dataDir,
    GROUNDWORK_DEV_APPS: 'api,worker',
    LOG_PRETTY: 'false',
    ...extraEnv,
  }
  // The README's command itself, through pnpm.
  const child = spawn('pnpm', ['dev'], {
    cwd: repoRoot,
    env,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  started.push(child)
  let output = ''
  child.stdout?.on('data', (chunk) => (output += chunk))
  child.stderr?.on('data', (chunk) => (output += chunk))
  const exited = new Promise<number | null>((done) => child.once('exit', (code) => done(code)))
  return { child, exited, output: () => output }
}

async function waitReady() {
  await expect
    .poll(
      async () =>
        (await fetch(`http://127.0.0.1:${ports.api}/readyz`).catch(() => undefined))?.status,
      { timeout: 90_000, interval: 250 },
    )
    .toBe(200)
}

/** Processes whose command line mentions the dev data dir (Postgres, Redis, reapers). */
function processesUsing(dir: string): string[] {
  return execFileSync('ps', ['-eo', 'args'], { encoding: 'utf8' })
    .split('\n')
    .filter((cmd) => cmd.includes(dir) && !cmd.startsWith('ps '))
}

async function query<T extends pg.QueryResultRow>(sql: string): Promise<T[]> {
  const client = new pg.Client({ connectionString: databaseUrl() })
  await client.connect()
  try {
    return (await client.query<T>(sql)).rows
  } finally {
    await client.end()
  }
}

async function interrupt(dev: ReturnType<typeof startDev>) {
  if (dev.child.pid) process.kill(-dev.child.pid, 'SIGINT')
  expect(await dev.exited).toBe(0)
}

const withoutColors = stripVTControlCharacters

/** A Node.js older than 24 on this machine (Debian's /usr/bin/node is 20 on the build machines). */
function olderNode(): string | undefined {
  for (const candidate of ['/usr/bin/node', '/usr/local/bin/node']) {
    try {
      const version = execFileSync(candidate, ['-p', 'process.versions.node'], { encoding: 'utf8' })
      if (Number(version.split('.')[0]) < 24) return candidate
    } catch {}
  }
  return undefined
}

describe('pnpm dev stops at once, with one line saying what to do, when a prerequisite is missing', () => {
  it('neither Postgres nor Redis installed (and no Docker engine)', async () => {
    const dev = startDev({
      GROUNDWORK_PG_BIN: '/nonexistent/bin',
      GROUNDWORK_REDIS_SERVER: '/nonexistent/redis-server',
    })
    expect(await dev.exited).toBe(1)
    const output = withoutColors(dev.output())
    expect(output).toMatch(
      /^✖ neither PostgreSQL nor Redis is installed: install Redis 7\+ \(`apt-get install redis-server`.*\).* and run `pnpm install` .*\.$/m,
    )
    expect(output).not.toMatch(STACK_FRAME)
    expect(processesUsing(dataDir)).toEqual([])
  })

  it('no redis-server', async () => {
    const dev = startDev({ GROUNDWORK_REDIS_SERVER: '/nonexistent/redis-server' })
    expect(await dev.exited).toBe(1)
    const output = withoutColors(dev.output())
    expect(output).toMatch(
      /^✖ redis-server is not installed: install Redis 7\+ .*brew install redis.*\.$/m,
    )
    expect(output).not.toContain('PostgreSQL')
    expect(output).not.toMatch(STACK_FRAME)
    expect(processesUsing(dataDir)).toEqual([])
  })

  it('a port the stack needs is taken, before anything starts', async () => {
    const blocker = createServer()
    await new Promise<void>((done) => blocker.listen(ports.api, '127.0.0.1', done))
    try {
      const dev = startDev()
      expect(await dev.exited).toBe(1)
      const output = withoutColors(dev.output())
      expect(output).toContain(
        `✖ Port ${ports.api} (the API) is already in use: stop what listens there, or set API_PORT in .env to a free port.`,
      )
      expect(output).not.toMatch(STACK_FRAME)
      // Nothing was started: no server of ours, no data written.
      expect(output).not.toContain('starting Postgres')
      expect(processesUsing(dataDir)).toEqual([])
      expect(existsSync(join(dataDir, 'postgres'))).toBe(false)
    } finally {
      await new Promise((done) => blocker.close(done))
    }
  })

  const oldNode = olderNode()
  it.runIf(oldNode)(`Node.js older than 24 (${oldNode})`, async () => {
    const dev = startDev({
      // pnpm runs scripts with the first node on PATH, as on a machine with an old Node.
      PATH: `${dirname(oldNode as string)}:${dirname(execFileSync('which', ['pnpm'], { encoding: 'utf8' }).trim())}:/usr/bin:/bin`,
    })
    expect(await dev.exited).toBe(1)
    const output = withoutColors(dev.output())
    expect(output).toMatch(
      /^✖ pnpm dev needs Node.js 24 or newer, and this is Node v\d+\.\d+\.\d+ .*install Node 24/m,
    )
    expect(output).not.toMatch(STACK_FRAME)
  })
})

describe('pnpm dev', () => {
  it('provisions, migrates, seeds and serves; refuses a second run; Ctrl-C leaves nothing running', async () => {
    const dev = startDev()
    await waitReady()
    expect(dev.output()).toContain('applied migrations:')
    expect(await query('SELECT email FROM users')).toEqual([{ email: DEMO_ACCOUNT.email }])

    // One block once the stack answers: the URLs, a demo account that works, how to stop.
    await expect
      .poll(() => withoutColors(dev.output()), { timeout: 30_000 })
      .toContain('Groundwork is ready')
    const banner = withoutColors(dev.output()).split('Groundwork is ready')[1] ?? ''
    expect(banner).toContain(`api            http://127.0.0.1:${ports.api}\n`)
    expect(banner).toContain(`API reference  http://127.0.0.1:${ports.api}/docs`)
    expect(banner).toContain(
      `mail           smtp://127.0.0.1:${ports.smtp} (every message is printed here)`,
    )
    expect(banner).toContain(`demo account   ${DEMO_ACCOUNT.email} / ${DEMO_ACCOUNT.password}`)
    expect(banner).toContain('Ctrl-C stops everything.')
    expect(banner).not.toContain('web ')
    const signIn = await fetch(`http://127.0.0.1:${ports.api}/v1/auth/sign-in`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email: DEMO_ACCOUNT.email, password: DEMO_ACCOUNT.password }),
    })
    expect(signIn.status).toBe(200)
    const { token } = (await signIn.json()) as { token: string }
    const orgs = await fetch(`http://127.0.0.1:${ports.api}/v1/orgs`, {
      headers: { authorization: `Bearer ${token}` },
    })
    expect(
      ((await orgs.json()) as { data: { name: string }[] }).data.map((org) => org.name),
    ).toEqual(['Acme (demo)'])
    await query(
      `INSERT INTO organizations (id, name, updated_at) VALUES (gen_random_uuid(), 'kept across restarts', now())`,
    )

    // Sign-up mail goes API -> queue -> worker -> the development mail sink, printed.
    await fetch(`http://127.0.0.1:${ports.api}/v1/auth/sign-up`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        email: 'dev-mail@example.com',
        password: 'correct horse battery staple',
        name: 'Dev',
      }),
    })
    await expect
      .poll(() => dev.output(), { timeout: 30_000 })
      .toMatch(/mail to dev-mail@example\.com: Confirm your email address/)

    const second = startDev()
    expect(await second.exited).toBe(1)
    expect(second.output()).toMatch(/already running in this checkout \(pid \d+\)/)

    await interrupt(dev)
    for (const port of Object.values(ports)) expect(await isPortInUse(port)).toBe(false)
    expect(processesUsing(dataDir)).toEqual([])
    expect(existsSync(join(dataDir, 'postgres', 'postmaster.pid'))).toBe(false)
    expect(existsSync(join(dataDir, 'dev.pid'))).toBe(false)
    expect(existsSync(join(dataDir, 'dev.lock'))).toBe(false)
  }, 180_000)

  it('restarts on the same data: migrations and seed are idempotent, rows survive', async () => {
    const dev = startDev()
    await waitReady()
    expect(dev.output()).toContain('no pending migrations')
    expect(await query('SELECT count(*)::int AS n FROM users')).toEqual([{ n: 2 }])
    expect(
      await query(`SELECT name FROM organizations WHERE name = 'kept across restarts'`),
    ).toHaveLength(1)
    await interrupt(dev)
    expect(processesUsing(dataDir)).toEqual([])
  }, 180_000)
})
