import { type ChildProcess, spawn } from 'node:child_process'
import { mkdtempSync, readdirSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { answers, createTestRedis, type TestRedis, waitUntil } from '@repo/testing'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { generateKeyPair } from '../src/backup/index.ts'
import { createDatabaseClient } from '../src/client.ts'
import { DEMO_ACCOUNT } from '../src/demo-account.ts'
import { ensureAppLogin, WORKER_ROLE } from '../src/roles.ts'
import { seed } from '../src/seed.ts'
import {
  createMigratedDatabase,
  type DrillServer,
  drillBinaries,
  runCli,
  snapshot,
  sql,
  startDrillServer,
  TEST_LOGINS,
} from './backup-helpers.ts'

// The restore drill, in every CI run: two tenants' data is backed up (encrypted), the
// server is destroyed with its data, a brand-new server (without the project's roles)
// gets the backup, and everything comes back: rows (counted and checksummed per table),
// row-level security, privileges, roles; then the real API serves the restored tenants.
const binaries = drillBinaries()
const { identity: KEY } = await generateKeyPair()

describe.skipIf('missing' in binaries)('restore drill', () => {
  const { binDir } = binaries as { binDir: string }
  let dir: string
  const servers: DrillServer[] = []
  let redis: TestRedis | undefined
  let api: ChildProcess | undefined
  let before: Awaited<ReturnType<typeof snapshot>>
  let tenants: { acme: string; globex: string; acmeProjects: string[] }
  let restored: DrillServer

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'groundwork-drill-'))
    const source = await startDrillServer(binDir)
    servers.push(source)
    const url = await createMigratedDatabase(source, 'groundwork')
    // Tenant one: the demo seed (accounts of each role, projects, tasks, audit log).
    const db = createDatabaseClient({
      DATABASE_URL: url,
      DATABASE_POOL_MAX: 2,
      DATABASE_CONNECT_TIMEOUT_MS: 5_000,
      DATABASE_STATEMENT_TIMEOUT_MS: 10_000,
    })
    try {
      await seed(db)
    } finally {
      await db.$disconnect()
    }
    // Tenant two: its own member, project and tasks.
    const [globex] = await sql<{ id: string }>(
      url,
      `WITH org AS (INSERT INTO organizations (id, name, updated_at)
                    VALUES (gen_random_uuid(), 'Globex', now()) RETURNING id),
            person AS (INSERT INTO users (id, email, name, updated_at)
                       VALUES (gen_random_uuid(), 'hank@globex.example', 'Hank', now()) RETURNING id),
            member AS (INSERT INTO memberships (id, organization_id, user_id, role, updated_at)
                       SELECT gen_random_uuid(), org.id, person.id, 'owner', now() FROM org, person),
            project AS (INSERT INTO projects (id, organization_id, name, updated_at)
                        SELECT gen_random_uuid(), org.id, 'Secret plans', now() FROM org RETURNING id, organization_id)
       INSERT INTO tasks (id, organization_id, project_id, title, updated_at)
       SELECT gen_random_uuid(), project.organization_id, project.id, 'Task ' || n, now()
         FROM project, generate_series(1, 25) n RETURNING organization_id AS id`,
    )
    const [acme] = await sql<{ id: string }>(
      url,
      `SELECT id FROM organizations WHERE name = 'Acme (demo)'`,
    )
    const acmeProjects = await sql<{ name: string }>(
      url,
      'SELECT name FROM projects WHERE organization_id = $1 ORDER BY name',
      [acme?.id],
    )
    tenants = {
      acme: acme?.id as string,
      globex: globex?.id as string,
      acmeProjects: acmeProjects.map((p) => p.name),
    }
    before = await snapshot(url)
  })

  afterAll(async () => {
    api?.kill('SIGKILL')
    await redis?.release()
    await Promise.allSettled(servers.map((server) => server.stop()))
    if (dir) rmSync(dir, { recursive: true, force: true })
  })

  it('backs up, loses the server, and restores everything into a new one', async () => {
    const [source] = servers as [DrillServer]
    const backup = await runCli(['backup'], {
      BACKUP_DATABASE_URL: source.urlOf('groundwork'),
      BACKUP_DESTINATION: dir,
      BACKUP_ENCRYPTION_KEY: KEY,
    })
    expect(backup.stderr).toBe('')
    expect(backup.code).toBe(0)
    const dump = readdirSync(dir).find((file) => file.endsWith('.dump.age')) as string
    expect(readdirSync(dir).sort()).toEqual([dump, dump.replace('.dump.age', '.manifest.json')])

    // The disaster: the server and every file of it are gone.
    await source.stop()
    servers.length = 0
    restored = await startDrillServer(binDir)
    servers.push(restored)
    expect(
      await sql(restored.url, `SELECT 1 FROM pg_roles WHERE rolname LIKE 'groundwork%'`),
    ).toEqual([])

    const restore = await runCli(['restore', join(dir, dump)], {
      MIGRATION_DATABASE_URL: restored.urlOf('groundwork'),
      BACKUP_ENCRYPTION_KEY: KEY,
    })
    expect(restore.stderr).toBe('')
    expect(restore.code).toBe(0)
    // pg_dump carries no roles: the restore made the ones the privileges name, without login.
    expect(restore.stdout).toContain(
      'created roles (without login): groundwork_app, groundwork_worker',
    )
    // The deploy's migrate step then creates the logins, as on any new server.
    await ensureAppLogin(restored.url, TEST_LOGINS.app)
    await ensureAppLogin(restored.url, TEST_LOGINS.worker, WORKER_ROLE)

    const after = await snapshot(restored.urlOf('groundwork'))
    // Both tenants' rows came back, not only the schema.
    expect(after.data['public.organizations']?.rows).toBe(2)
    expect(after.data['public.tasks']?.rows).toBeGreaterThan(25)
    expect(after.rowSecurity.length).toBeGreaterThan(10)
    expect(after.rowSecurity.filter((table) => table.relforcerowsecurity).length).toBeGreaterThan(5)
    expect(after).toEqual(before)
  }, 60_000)

  it('serves the restored tenants through the real API, each only its own', async () => {
    redis = await createTestRedis()
    const child = spawn(process.execPath, ['src/server.ts'], {
      cwd: fileURLToPath(new URL('../../../apps/api', import.meta.url)),
      env: {
        PATH: process.env.PATH,
        NODE_ENV: 'test',
        LOG_LEVEL: 'info',
        API_PORT: '0',
        DATABASE_URL: restored.urlOf('groundwork', TEST_LOGINS.app),
        REDIS_URL: redis.url,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    api = child
    let output = ''
    child.stdout?.on('data', (chunk) => (output += chunk))
    child.stderr?.on('data', (chunk) => (output += chunk))
    const listening = () => /"msg":"Server listening at (http:[^"]+)"/.exec(output)?.[1]
    await waitUntil(() => listening() !== undefined, {
      what: 'the API to listen',
      timeoutMs: 30_000,
      gaveUp: () => (child.exitCode === null ? undefined : 'the API exited'),
      detail: () => output,
    })
    const base = listening() as string
    await waitUntil(() => answers(`${base}/readyz`), {
      what: 'the API to be ready',
      timeoutMs: 30_000,
    })

    const signIn = await fetch(`${base}/v1/auth/sign-in`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email: DEMO_ACCOUNT.email, password: DEMO_ACCOUNT.password }),
    })
    expect(signIn.status).toBe(200)
    const { token } = (await signIn.json()) as { token: string }
    const headers = { authorization: `Bearer ${token}` }

    type Page<T> = { data: T[] }
    const orgs = (await (await fetch(`${base}/v1/orgs`, { headers })).json()) as Page<{
      id: string
    }>
    expect(orgs.data.map((org) => org.id)).toEqual([tenants.acme])
    const projects = await fetch(`${base}/v1/orgs/${tenants.acme}/projects?limit=100`, { headers })
    expect(projects.status).toBe(200)
    const names = ((await projects.json()) as Page<{ name: string }>).data.map(
      (project) => project.name,
    )
    expect(names.sort()).toEqual(tenants.acmeProjects)
    expect(names.length).toBeGreaterThan(0)
    // Row-level security and the grants came back: the other tenant stays invisible.
    const foreign = await fetch(`${base}/v1/orgs/${tenants.globex}/projects`, { headers })
    expect(foreign.status).toBe(404)
  }, 60_000)
})
