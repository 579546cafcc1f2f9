import { createDatabaseClient, type PrismaClient } from '@repo/db'
import { MAINTENANCE_QUEUE, nightlyBackupJob, openQueues, type QueueRegistry } from '@repo/jobs'
import { createLogger } from '@repo/observability'
import { createTestDatabase, STACK_FRAME, startGatedPort, useIsolatedServices } from '@repo/testing'
import { Redis } from 'ioredis'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { buildTestServer } from '../../api/test/helpers.ts'
import { createOutboxRelay } from '../../worker/src/outbox-relay.ts'
import { auditEntries, callOps, opsEnv, ownerQuery, runOps } from './helpers.ts'

// `pnpm ops` on what belongs to no organization: queues, backups, migrations, lockouts,
// and how it fails (no operator, a dependency down, a wrong command line). Each run is a
// child process, as an operator runs it; effects are checked in Redis, Postgres and
// through a real API.
const services = useIsolatedServices()
// Each test runs the CLI several times, a second or two each on a loaded machine.
vi.setConfig({ testTimeout: 60_000 })
let env: Record<string, string>
let redis: Redis
let queues: QueueRegistry
let workerDb: PrismaClient
beforeAll(() => {
  env = opsEnv(services(), { OPS_OPERATOR: 'erin' })
  redis = new Redis(services().redis.url, { maxRetriesPerRequest: null })
  queues = openQueues(redis)
  workerDb = createDatabaseClient({
    DATABASE_URL: services().database.workerUrl,
    DATABASE_POOL_MAX: 2,
    DATABASE_CONNECT_TIMEOUT_MS: 5_000,
    DATABASE_STATEMENT_TIMEOUT_MS: 10_000,
  })
})
afterAll(async () => {
  await queues?.close()
  redis?.disconnect()
  await workerDb?.$disconnect()
})
/** As an operator runs it: a child process. */
const shell = (...args: string[]) => runOps(args, env)
/** The same, in this process: for re-runs, refusals and wrong input. */
const ops = (...args: string[]) => callOps(args, env)
const dbUrl = () => services().database.url

describe('ops queues', () => {
  it('pauses and resumes a queue for every worker, asks first, records each change once', async () => {
    const email = queues.get('email')
    expect((await ops('queues', 'pause', 'email')).code).toBe(4)
    expect(await email.isPaused()).toBe(false)

    const paused = await shell('--yes', 'queues', 'pause', 'email')
    expect(paused.code, paused.err).toBe(0)
    expect(await email.isPaused()).toBe(true)
    const again = await ops('--yes', 'queues', 'pause', 'email')
    expect(again.out).toContain('Already done: email is paused')
    // This test's entries: other tests pause and resume queues too.
    const erin = async (action: string) =>
      (await auditEntries(dbUrl(), action)).filter(
        (e) => e.actor_operator === 'erin' && e.target_id === 'email',
      )
    expect(await erin('queue.paused')).toEqual([
      expect.objectContaining({
        actor_operator: 'erin',
        organization_id: null,
        target_type: 'queue',
        target_id: 'email',
      }),
    ])
    expect((await ops('queues', 'list')).out).toMatch(/^email\s+PAUSED/m)

    const resumed = await ops('queues', 'resume', 'email')
    expect(resumed.code, resumed.err).toBe(0)
    expect(await email.isPaused()).toBe(false)
    expect((await ops('queues', 'resume', 'email')).out).toContain('Already done: email is running')
    expect(await erin('queue.resumed')).toHaveLength(1)

    const all = await ops('--yes', 'queues', 'pause', '--all')
    expect(all.code, all.err).toBe(0)
    for (const name of ['default', 'email', 'maintenance', 'webhooks', 'webhook-deliveries'])
      expect(await queues.get(name).isPaused(), name).toBe(true)
    expect((await ops('queues', 'resume', '--all')).code).toBe(0)
    expect(await queues.get('webhooks').isPaused()).toBe(false)
  })

  it('names the queues there are for one that is not (exit 3), and wants a name (exit 2)', async () => {
    const unknown = await ops('--yes', 'queues', 'pause', 'emails')
    expect(unknown.code).toBe(3)
    expect(unknown.err).toContain('No queue "emails". The queues are: default, email')
    expect((await ops('--yes', 'queues', 'pause')).code).toBe(2)
    expect((await ops('--yes', 'queues', 'pause', 'email', '--all')).code).toBe(2)
  })
})

describe('ops backups run', () => {
  it('asks for the nightly backup job through the outbox, once, and finds it on the queue', async () => {
    const backups = queues.get(MAINTENANCE_QUEUE)
    await backups.obliterate({ force: true })
    // No worker: the request waits in the outbox, and the command says so.
    const first = await shell('backups', 'run', '--wait', '1')
    expect(first.code, first.err).toBe(0)
    expect(first.err).toContain('is the worker running?')
    const outbox = await ownerQuery<{ data: { context: { requestId: string } } }>(
      dbUrl(),
      `SELECT data FROM outbox_messages WHERE job_name = $1 AND published_at IS NULL`,
      [nightlyBackupJob.name],
    )
    expect(outbox).toHaveLength(1)
    const [entry] = await auditEntries(dbUrl(), 'backup.requested')
    expect(entry).toMatchObject({ actor_operator: 'erin', organization_id: null })
    expect(entry?.metadata.requestId).toBe(outbox[0]?.data.context.requestId)

    // The worker's relay publishes it; asking again while it waits asks for nothing more.
    const relay = createOutboxRelay({
      db: workerDb,
      queueFor: queues.get,
      logger: createLogger({ service: 'test', level: 'silent', pretty: false }),
    })
    expect(await relay.tick()).toBeGreaterThanOrEqual(1)
    const again = await ops('backups', 'run')
    expect(again.code).toBe(0)
    expect(again.out).toContain('Already done: a backup is waiting')
    expect(await auditEntries(dbUrl(), 'backup.requested')).toHaveLength(1)

    // With the relay running, the command sees its job arrive.
    await backups.obliterate({ force: true })
    relay.start()
    try {
      const run = await ops('backups', 'run', '--wait', '20')
      expect(run.code, run.err).toBe(0)
      expect(run.out).toMatch(/On the maintenance queue as job \S+ \(waiting\)/)
      const jobs = await backups.getJobs(['waiting'])
      expect(jobs.map((job) => job.name)).toEqual([nightlyBackupJob.name])
    } finally {
      await relay.stop()
    }
  })
})

describe('ops migrations status', () => {
  it('exits 0 when the database is at this build, 7 naming what is missing otherwise', async () => {
    const current = await shell('migrations', 'status')
    expect(current.code, current.err).toBe(0)
    expect(current.out).toContain('Up to date')

    const empty = await createTestDatabase({ migrated: false })
    try {
      const behind = await callOps(['migrations', 'status'], {
        ...env,
        MIGRATION_DATABASE_URL: empty.url,
      })
      expect(behind.code).toBe(7)
      expect(behind.out).toContain('Not applied yet')
      expect(behind.out).toContain('_operator_actions')
    } finally {
      await empty.drop()
    }
  })
})

describe('ops unblock', () => {
  it("clears a user's sign-in throttle and an address's rate limits on a running API", async () => {
    const { database, redis: ownRedis } = services()
    const api = await buildTestServer({
      DATABASE_URL: database.appUrl,
      REDIS_URL: ownRedis.url,
      RATE_LIMIT_IP_PER_MINUTE: '3',
    })
    try {
      const password = 'correct horse battery staple'
      const email = 'locked@example.com'
      const signUp = await api.inject({
        method: 'POST',
        url: '/v1/auth/sign-up',
        payload: { email, password, name: 'Lou' },
        remoteAddress: '198.51.100.1',
      })
      expect(signUp.statusCode).toBe(201)
      const signIn = (pass: string) =>
        api.inject({
          method: 'POST',
          url: '/v1/auth/sign-in',
          payload: { email, password: pass },
          remoteAddress: '198.51.100.2',
        })
      // Five free failures, then a wait: the owner, from that address, is locked out.
      for (let i = 0; i < 6; i++) await signIn('wrong wrong wrong')
      expect((await signIn(password)).statusCode).toBe(429)

      const user = await shell('unblock', 'user', email.toUpperCase(), '--ip', '198.51.100.2')
      expect(user.code, user.err).toBe(0)
      expect(user.out).toContain('sign-in throttle (from 198.51.100.2)')
      // Again before anything new is counted: nothing left to clear, nothing recorded.
      expect((await ops('unblock', 'user', email, '--ip', '198.51.100.2')).out).toContain(
        'Already done',
      )
      expect((await signIn(password)).statusCode).toBe(200)
      const [entry] = await auditEntries(database.url, 'lockouts.cleared')
      expect(entry).toMatchObject({ actor_operator: 'erin', target_type: 'user' })

      // An address over the per-IP limit (3 a minute here), on every route. Counted until
      // refused: on a loaded machine the limiter counts a slow Redis call in memory.
      const read = (ip: string) => api.inject({ url: '/v1/auth/me', remoteAddress: ip })
      const refusedAfter = async (ip: string) => {
        for (let i = 1; i <= 5; i++) if ((await read(ip)).statusCode === 429) return i
        return undefined
      }
      expect(await refusedAfter('203.0.113.7')).toBeDefined()
      await read('203.0.113.70')
      const neighbour = () => redis.keys('groundwork:rl:ip:*::203.0.113.70')
      await expect.poll(async () => (await neighbour()).length).toBeGreaterThan(0)
      const address = await ops('unblock', 'ip', '203.0.113.7')
      expect(address.code, address.err).toBe(0)
      expect(address.out).toContain('rate limits of 203.0.113.7')
      expect((await read('203.0.113.7')).statusCode).toBe(401)
      // Only that address: its neighbour's count stands.
      expect((await neighbour()).length).toBeGreaterThan(0)
      expect(await auditEntries(database.url, 'lockouts.cleared')).toEqual([
        expect.objectContaining({ target_type: 'user' }),
        expect.objectContaining({ target_type: 'address', target_id: '203.0.113.7' }),
      ])

      expect((await ops('unblock', 'ip', 'not-an-address')).code).toBe(2)
      expect((await ops('unblock', 'user', 'nobody@example.com')).code).toBe(3)
    } finally {
      await api.close()
    }
  })
})

describe('ops, failing', () => {
  it('in production, wants to know who is acting before anything else (exit 6)', async () => {
    const run = await runOps(['--yes', 'queues', 'pause', 'email'], {
      ...env,
      NODE_ENV: 'production',
      OPS_OPERATOR: '',
    })
    expect(run.code).toBe(6)
    expect(run.err).toContain('--operator <name> or OPS_OPERATOR')
    expect(await queues.get('email').isPaused()).toBe(false)
    // Given, it is what the audit log records.
    const named = await callOps(['--yes', '--operator', 'frank', 'queues', 'pause', 'default'], {
      ...env,
      NODE_ENV: 'production',
      OPS_OPERATOR: '',
    })
    expect(named.code, named.err).toBe(0)
    expect(
      (await auditEntries(dbUrl(), 'queue.paused')).filter((e) => e.actor_operator === 'frank'),
    ).toEqual([expect.objectContaining({ target_id: 'default' })])
    await ops('queues', 'resume', 'default')
  })

  it('names each malformed variable a command needs (exit 6), never a stack trace', async () => {
    const run = await runOps(['maintenance', 'status'], { ...env, REDIS_URL: 'localhost:6379' })
    expect(run.code).toBe(6)
    expect(run.err).toContain('Invalid environment:')
    expect(run.err).toMatch(/^ {2}- REDIS_URL/m)
    expect(run.err).not.toMatch(STACK_FRAME)
  })

  it('changes nothing when Redis or Postgres does not answer (exit 5)', async () => {
    const down = await startGatedPort() // refuses every connection
    try {
      const noRedis = await runOps(['--yes', 'maintenance', 'on'], {
        ...env,
        REDIS_URL: `redis://127.0.0.1:${down.port}`,
      })
      expect(noRedis.code).toBe(5)
      expect(noRedis.err).toContain(`Cannot reach Redis at 127.0.0.1:${down.port}`)
      expect(noRedis.err).toContain('Nothing was changed')

      const noPostgres = await callOps(['--yes', 'queues', 'pause', 'email'], {
        ...env,
        WORKER_DATABASE_URL: `postgresql://nobody:nothing@127.0.0.1:${down.port}/none`,
      })
      expect(noPostgres.code).toBe(5)
      expect(noPostgres.err).toContain(`Cannot reach Postgres at 127.0.0.1:${down.port}`)
      expect(noPostgres.err).not.toMatch(/\bat .*\.ts:\d+/)
      expect(await queues.get('email').isPaused()).toBe(false)
      expect(await auditEntries(dbUrl(), 'maintenance.started')).toEqual([])
    } finally {
      await down.close()
    }
  })

  it('answers a wrong command line with its usage (exit 2), and --help with 0', async () => {
    const help = await shell('--help')
    expect(help.code).toBe(0)
    for (const area of ['sessions', 'api-keys', 'webhooks', 'backups', 'queues', 'migrations'])
      expect(help.out).toContain(area)
    expect((await ops('maintenance', 'on', '--help')).out).toContain('--message <text>')
    for (const args of [['nonsense'], ['sessions'], ['sessions', 'revoke'], ['--bogus']])
      expect((await ops(...args)).code, args.join(' ')).toBe(2)
    const badWait = await ops('backups', 'run', '--wait', 'soon')
    expect(badWait.code).toBe(2)
    expect(badWait.err).toContain('seconds')
  })
})
