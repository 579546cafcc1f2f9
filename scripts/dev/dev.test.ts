import { execFileSync } from 'node:child_process'
import { existsSync, mkdirSync, rmSync, symlinkSync } from 'node:fs'
import { createServer } from 'node:net'
import { dirname, join } from 'node:path'
import { DEMO_ACCOUNT, DEMO_ACCOUNTS } from '@repo/db/demo-account'
import { STACK_FRAME } from '@repo/testing'
import { isPortInUse } from '@repo/testing/servers'
import pg from 'pg'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  type DevRun,
  fetchPolitely,
  freePorts,
  interrupt,
  killSession,
  processesUnder,
  readyBlock,
  repoRoot,
  signInAsDemo,
  spawnDev,
  stackTempDir,
} from './test-helpers.ts'

// `pnpm dev` for real: local Postgres and Redis with data in a temp dir, api and worker
// through turbo, then Ctrl-C as a terminal sends it.
const dataDir = stackTempDir('groundwork-dev-test-')
let ports: Record<'postgres' | 'redis' | 'api' | 'smtp', number>
const started: DevRun[] = []

beforeAll(async () => {
  ports = await freePorts(['postgres', 'redis', 'api', 'smtp'])
})
afterAll(() => {
  // Whatever a failed test left running.
  for (const dev of started) killSession(dev)
  rmSync(dataDir, { recursive: true, force: true })
})

const databaseUrl = () => `postgresql://postgres:devpass@127.0.0.1:${ports.postgres}/groundwork`
const appDatabaseUrl = () => `postgresql://devapp:devapppass@127.0.0.1:${ports.postgres}/groundwork`

function startDev(extraEnv: NodeJS.ProcessEnv = {}) {
  const dev = spawnDev(repoRoot, {
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
  })
  started.push(dev)
  return dev
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

/** A directory whose only programs are node, pnpm and sh: a machine without Docker. */
function pathWithout(): string {
  const bin = join(dataDir, 'bin-without-docker')
  mkdirSync(bin, { recursive: true })
  const which = (name: string) => execFileSync('which', [name], { encoding: 'utf8' }).trim()
  for (const [name, target] of [
    ['node', process.execPath],
    ['pnpm', which('pnpm')],
    ['sh', '/bin/sh'],
  ] as const)
    if (!existsSync(join(bin, name))) symlinkSync(target, join(bin, name))
  return bin
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
  it('neither Postgres nor Redis installed (local services asked for)', async () => {
    const dev = startDev({
      GROUNDWORK_PG_BIN: '/nonexistent/bin',
      GROUNDWORK_REDIS_SERVER: '/nonexistent/redis-server',
    })
    expect(await dev.exited).toBe(1)
    const output = dev.output()
    expect(output).toMatch(
      /^✖ neither PostgreSQL nor Redis is installed: install Redis 7\+ \(`apt-get install redis-server`.*\).* and run `pnpm install` .*\.$/m,
    )
    expect(output).not.toMatch(STACK_FRAME)
    expect(processesUnder(dataDir)).toEqual([])
  })

  it('no redis-server and no Docker engine, as a newcomer meets it (the default, auto)', async () => {
    const dev = startDev({
      GROUNDWORK_DEV_SERVICES: 'auto',
      GROUNDWORK_REDIS_SERVER: '/nonexistent/redis-server',
      PATH: pathWithout(),
    })
    expect(await dev.exited).toBe(1)
    const output = dev.output()
    expect(output).toMatch(
      /^✖ No Docker engine answers and redis-server is not installed: install Redis 7\+ .*brew install redis.*, or start a Docker engine .*\.$/m,
    )
    // That line is all it says after pnpm's own.
    expect(
      output
        .trim()
        .split('\n')
        .filter((line) => !line.startsWith('$ ') && !/ELIFECYCLE/.test(line)),
    ).toHaveLength(1)
    expect(output).not.toContain('PostgreSQL')
    expect(output).not.toMatch(STACK_FRAME)
    expect(processesUnder(dataDir)).toEqual([])
  })

  it('a port the stack needs is taken, before anything starts', async () => {
    const blocker = createServer()
    await new Promise<void>((done) => blocker.listen(ports.api, '127.0.0.1', done))
    // A data directory of its own: whatever ran before in this file leaves its data in the
    // shared one, and this run must be seen to write nothing.
    const untouched = stackTempDir('groundwork-dev-blocked-')
    try {
      const dev = startDev({ GROUNDWORK_DATA_DIR: untouched })
      expect(await dev.exited).toBe(1)
      const output = dev.output()
      expect(output).toContain(
        `✖ Port ${ports.api} (the API) is already in use: stop what listens there, or set API_PORT in .env to a free port.`,
      )
      expect(output).not.toMatch(STACK_FRAME)
      // Nothing was started: no server of ours, no data written.
      expect(output).not.toContain('starting Postgres')
      expect(processesUnder(untouched)).toEqual([])
      expect(existsSync(join(untouched, 'postgres'))).toBe(false)
    } finally {
      await new Promise((done) => blocker.close(done))
      rmSync(untouched, { recursive: true, force: true })
    }
  })

  const oldNode = olderNode()
  it.runIf(oldNode)(`Node.js older than 24 (${oldNode})`, async () => {
    const dev = startDev({
      // pnpm runs scripts with the first node on PATH, as on a machine with an old Node.
      PATH: `${dirname(oldNode as string)}:${dirname(execFileSync('which', ['pnpm'], { encoding: 'utf8' }).trim())}:/usr/bin:/bin`,
    })
    expect(await dev.exited).toBe(1)
    const output = dev.output()
    expect(output).toMatch(
      /^✖ pnpm dev needs Node.js 24 or newer, and this is Node v\d+\.\d+\.\d+ .*install Node 24/m,
    )
    expect(output).not.toMatch(STACK_FRAME)
  })
})

// The second run restarts on the first one's data: kept in order when tests are shuffled.
describe('pnpm dev', { shuffle: false }, () => {
  it('provisions, migrates, seeds and serves; refuses a second run; Ctrl-C leaves nothing running', async () => {
    const dev = startDev()
    await waitReady()
    expect(dev.output()).toContain('applied migrations:')
    expect(await query('SELECT email FROM users ORDER BY email')).toEqual(
      DEMO_ACCOUNTS.map(({ email }) => ({ email })).sort((a, b) => a.email.localeCompare(b.email)),
    )

    // One block once the stack answers: the URLs, a demo account that works, how to stop.
    await expect.poll(dev.output, { timeout: 30_000 }).toContain('Groundwork is ready')
    const banner = readyBlock(dev.output())
    expect(banner).toContain(`api            http://127.0.0.1:${ports.api}\n`)
    expect(banner).toContain(`API reference  http://127.0.0.1:${ports.api}/docs`)
    expect(banner).toContain(
      `mail           smtp://127.0.0.1:${ports.smtp} (every message is printed here)`,
    )
    expect(banner).toContain(`demo accounts  ${DEMO_ACCOUNT.email} / ${DEMO_ACCOUNT.password}`)
    for (const account of DEMO_ACCOUNTS)
      expect(banner).toContain(`${account.email} / ${account.password} (${account.role})`)
    expect(banner).toContain('Ctrl-C stops everything.')
    expect(banner).not.toContain('web ')
    // Each demo account signs in, into the demo organization with its role, and the role
    // shows: the audit log is for owners and admins.
    for (const account of DEMO_ACCOUNTS) {
      const signIn = await signInAsDemo(ports.api, account)
      expect(signIn.status, account.email).toBe(200)
      const { token } = (await signIn.json()) as { token: string }
      const headers = { authorization: `Bearer ${token}` }
      const orgs = await fetchPolitely(`http://127.0.0.1:${ports.api}/v1/orgs`, { headers })
      const [org, ...others] = (
        (await orgs.json()) as { data: { id: string; name: string; role: string }[] }
      ).data
      expect(others, account.email).toEqual([])
      expect(org, account.email).toMatchObject({ name: 'Acme (demo)', role: account.role })
      const log = await fetchPolitely(
        `http://127.0.0.1:${ports.api}/v1/orgs/${org?.id}/audit-log`,
        { headers },
      )
      expect(log.status, account.email).toBe(account.role === 'member' ? 403 : 200)
    }
    await query(
      `INSERT INTO organizations (id, name, updated_at) VALUES (gen_random_uuid(), 'kept across restarts', now())`,
    )

    // Sign-up mail goes API -> queue -> worker -> the development mail sink, printed.
    await fetchPolitely(`http://127.0.0.1:${ports.api}/v1/auth/sign-up`, {
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

    expect(await interrupt(dev)).toBe(0)
    for (const port of Object.values(ports)) expect(await isPortInUse(port)).toBe(false)
    await expect.poll(() => processesUnder(dataDir)).toEqual([])
    expect(existsSync(join(dataDir, 'postgres', 'postmaster.pid'))).toBe(false)
    expect(existsSync(join(dataDir, 'dev.pid'))).toBe(false)
    expect(existsSync(join(dataDir, 'dev.lock'))).toBe(false)
  }, 180_000)

  it('restarts on the same data: migrations and seed are idempotent, rows survive', async () => {
    const dev = startDev()
    await waitReady()
    expect(dev.output()).toContain('no pending migrations')
    // The demo accounts and the one signed up in the first run; nothing seeded twice.
    expect(await query('SELECT count(*)::int AS n FROM users')).toEqual([
      { n: DEMO_ACCOUNTS.length + 1 },
    ])
    expect(
      await query(
        `SELECT count(*)::int AS n FROM memberships JOIN organizations o ON o.id = organization_id WHERE o.name = 'Acme (demo)'`,
      ),
    ).toEqual([{ n: DEMO_ACCOUNTS.length }])
    expect(
      await query(`SELECT name FROM organizations WHERE name = 'kept across restarts'`),
    ).toHaveLength(1)
    expect(await interrupt(dev)).toBe(0)
    await expect.poll(() => processesUnder(dataDir)).toEqual([])
  }, 180_000)
})
