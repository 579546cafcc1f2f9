import { spawn } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { fileURLToPath } from 'node:url'
import { createTestDatabase } from '@repo/testing'
import pg from 'pg'
import { afterAll, describe, expect, it } from 'vitest'

// `cli.ts deploy` is what a release runs once before the new code rolls out (the images'
// migration command, the Kubernetes Job, the compose stack's migrate service).

const cleanups: Array<() => Promise<unknown>> = []
afterAll(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup()
})

const packageRoot = fileURLToPath(new URL('..', import.meta.url))

function runDeploy(env: Record<string, string>) {
  const child = spawn(process.execPath, ['src/migrate/cli.ts', 'deploy'], {
    cwd: packageRoot,
    // Only what a container gets: no .env file is read in production.
    env: { PATH: process.env.PATH, NODE_ENV: 'production', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let output = ''
  child.stdout.on('data', (chunk) => (output += chunk))
  child.stderr.on('data', (chunk) => (output += chunk))
  return new Promise<{ code: number | null; output: string }>((resolve) =>
    child.once('exit', (code) => resolve({ code, output })),
  )
}

/** A login name of this test's own (roles are cluster-wide), dropped afterwards. */
function loginName(kind: string, adminUrl: string) {
  const name = `deploy_${kind}_${randomBytes(4).toString('hex')}`
  cleanups.push(() => queryAs(adminUrl, `DROP ROLE IF EXISTS ${name}`))
  return name
}

function urlFor(adminUrl: string, user: string, password: string) {
  const url = new URL(adminUrl)
  url.username = user
  url.password = password
  return url.toString()
}

async function queryAs(url: string, sql: string) {
  const client = new pg.Client({ connectionString: url })
  await client.connect()
  try {
    return (await client.query(sql)).rows
  } finally {
    await client.end()
  }
}

describe('migrate deploy', () => {
  it('migrates an empty database and provisions both logins; a re-run changes nothing but passwords', async () => {
    const db = await createTestDatabase({ migrated: false })
    cleanups.push(db.drop)
    const app = loginName('app', db.url)
    const worker = loginName('worker', db.url)
    const env = {
      MIGRATION_DATABASE_URL: db.url,
      DATABASE_URL: urlFor(db.url, app, 'first-password'),
      WORKER_DATABASE_URL: urlFor(db.url, worker, 'first-password'),
    }

    const first = await runDeploy(env)
    expect(first.output).toMatch(/applied migrations: \d+_init/)
    expect(first.code).toBe(0)
    expect(first.output).toContain(`login "${app}" is a member of groundwork_app`)
    expect(first.output).toContain(`login "${worker}" is a member of groundwork_worker`)

    // The app's login is subject to row-level security: it sees no organization without a
    // tenant, and it owns nothing.
    const [row] = await queryAs(
      env.DATABASE_URL,
      `SELECT count(*)::int AS organizations, current_setting('is_superuser') AS superuser,
              pg_has_role(current_user, 'groundwork_app', 'member') AS app,
              pg_has_role(current_user, 'groundwork_worker', 'member') AS worker
         FROM organizations`,
    )
    expect(row).toEqual({ organizations: 0, superuser: 'off', app: true, worker: false })
    const [workerRow] = await queryAs(
      env.WORKER_DATABASE_URL,
      `SELECT pg_has_role(current_user, 'groundwork_worker', 'member') AS worker`,
    )
    expect(workerRow).toEqual({ worker: true })

    const rotated = {
      ...env,
      DATABASE_URL: urlFor(db.url, app, 'rotated-password'),
      WORKER_DATABASE_URL: urlFor(db.url, worker, 'rotated-password'),
    }
    const second = await runDeploy(rotated)
    expect(second.code).toBe(0)
    expect(second.output).toContain('no pending migrations.')
    await expect(queryAs(rotated.DATABASE_URL, 'SELECT 1')).resolves.toHaveLength(1)
    await expect(queryAs(env.DATABASE_URL, 'SELECT 1')).rejects.toThrow(/password/)
  })

  it('refuses to make the migration owner the application login', async () => {
    const db = await createTestDatabase({ migrated: false })
    cleanups.push(db.drop)
    const result = await runDeploy({ MIGRATION_DATABASE_URL: db.url, DATABASE_URL: db.url })
    expect(result.code).toBe(1)
    expect(result.output).toContain('DATABASE_URL uses the migration owner')
    expect(result.output).not.toMatch(/\n\s+at /) // a reason, not a stack trace
  })

  it("refuses one login for both the API and the worker: the API's must not hold the worker's rights", async () => {
    const db = await createTestDatabase({ migrated: false })
    cleanups.push(db.drop)
    const shared = urlFor(db.url, loginName('shared', db.url), 'pw')
    const result = await runDeploy({
      MIGRATION_DATABASE_URL: db.url,
      DATABASE_URL: shared,
      WORKER_DATABASE_URL: shared,
    })
    expect(result.code).toBe(1)
    expect(result.output).toContain('name the same login')
  })

  it('refuses a login URL without a password, naming the variable', async () => {
    const db = await createTestDatabase({ migrated: false })
    cleanups.push(db.drop)
    const url = new URL(db.url)
    url.username = 'someone'
    url.password = ''
    const result = await runDeploy({
      MIGRATION_DATABASE_URL: db.url,
      WORKER_DATABASE_URL: url.toString(),
    })
    expect(result.code).toBe(1)
    expect(result.output).toContain('WORKER_DATABASE_URL must name a user and a password')
  })

  it('exits 1 with the reason when Postgres does not answer', async () => {
    const result = await runDeploy({
      MIGRATION_DATABASE_URL: 'postgresql://postgres:postgres@127.0.0.1:1/groundwork',
    })
    expect(result.code).toBe(1)
    expect(result.output).toMatch(/reach|ECONNREFUSED|connect/i)
    expect(result.output).not.toMatch(/\n\s+at /)
  })
})
