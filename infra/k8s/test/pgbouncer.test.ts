import { createHash } from 'node:crypto'
import { createDatabaseClient, readWithTenant, withTenant } from '@repo/db'
import { TEST_APP_LOGIN, TEST_WORKER_LOGIN, useIsolatedServices } from '@repo/testing'
import pg from 'pg'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildTestServer, signUpOwner } from '../../../apps/api/test/helpers.ts'
import { type RunningPgbouncer, startPgbouncer } from './support/pgbouncer.ts'
import { renderRelease } from './support/render.ts'

// PgBouncer in transaction mode hands one server connection to whichever client has a
// transaction to run. That is safe for Groundwork only if nothing a request sets outlives
// its transaction: the tenant context is set with set_config(..., true) for exactly that
// reason (packages/db/src/tenant.ts). Proven here with Debian's pgbouncer running the
// configuration the manifests ship, squeezed to ONE server connection, in front of the
// test Postgres, driven by the application's own database client and API.

const services = useIsolatedServices()
let bouncer: RunningPgbouncer
let owner: pg.Client

/** One query through PgBouncer on a connection of its own, as the given login. */
async function queryThrough(login: typeof TEST_APP_LOGIN, sql: string) {
  const client = new pg.Client({ connectionString: bouncer.url(login) })
  await client.connect()
  try {
    return (await client.query(sql)).rows
  } finally {
    await client.end()
  }
}

beforeAll(async () => {
  const { database } = services()
  const server = new URL(database.url)
  bouncer = await startPgbouncer(
    await renderRelease('production'),
    { host: server.hostname, port: Number(server.port), database: database.name },
    { app: TEST_APP_LOGIN, worker: TEST_WORKER_LOGIN },
    { defaultPoolSize: 1 },
    // Production talks TLS to RDS; the test Postgres has no certificate.
    'disable',
  )
  owner = new pg.Client({ connectionString: database.url })
  await owner.connect()
}, 60_000)
afterAll(async () => {
  await owner?.end()
  await bouncer?.stop()
})

function appClient() {
  return createDatabaseClient({
    DATABASE_URL: bouncer.url(TEST_APP_LOGIN),
    DATABASE_POOL_MAX: 6,
    DATABASE_CONNECT_TIMEOUT_MS: 5_000,
    DATABASE_STATEMENT_TIMEOUT_MS: 10_000,
  })
}

async function organizationWithProjects(name: string, projects: string[]) {
  const { rows } = await owner.query<{ id: string }>(
    'INSERT INTO organizations (id, name, updated_at) VALUES (gen_random_uuid(), $1, now()) RETURNING id',
    [name],
  )
  const id = (rows[0] as { id: string }).id
  for (const project of projects)
    await owner.query(
      'INSERT INTO projects (id, organization_id, name, updated_at) VALUES (gen_random_uuid(), $1, $2, now())',
      [id, project],
    )
  return id
}

describe('the application through PgBouncer (transaction mode, one server connection)', () => {
  it("connects with the app's own client, and the server keeps the app's timeouts", async () => {
    const db = appClient()
    try {
      // node-postgres sends statement_timeout at connect: PgBouncer drops it (it could not
      // apply one client's setting to a shared connection), and the server connection
      // gets the same values from PgBouncer's connect_query instead.
      const [row] = await db.$queryRaw<Array<{ statement: string; idle: string; user: string }>>`
        SELECT current_setting('statement_timeout') AS statement,
               current_setting('idle_in_transaction_session_timeout') AS idle,
               current_user AS "user"`
      expect(row).toEqual({ statement: '10s', idle: '20s', user: TEST_APP_LOGIN.user })
    } finally {
      await db.$disconnect()
    }
    // The worker's login, the user list's second entry, works too.
    expect(await queryThrough(TEST_WORKER_LOGIN, 'SELECT current_user AS "user"')).toEqual([
      { user: TEST_WORKER_LOGIN.user },
    ])
  })

  it("keeps the app's sessions in UTC on a server connection another client set to another zone", async () => {
    // The app's client asks for UTC at connect (Prisma reads and writes times right only
    // there, packages/db/test/time-zone.test.ts). PgBouncer tracks TimeZone per client and
    // sets it on the one server connection each time it changes hands.
    const other = new pg.Client({ connectionString: bouncer.url(TEST_APP_LOGIN) })
    await other.connect()
    const db = appClient()
    try {
      await other.query(`SET TimeZone = 'Asia/Tokyo'`)
      for (let i = 0; i < 3; i++) {
        const [theirs] = (
          await other.query(`SELECT current_setting('TimeZone') AS zone, pg_backend_pid() AS pid`)
        ).rows
        const [ours] = await db.$queryRaw<Array<{ zone: string; pid: number }>>`
          SELECT current_setting('TimeZone') AS zone, pg_backend_pid() AS pid`
        expect({ theirs: theirs.zone, ours: ours?.zone }).toEqual({
          theirs: 'Asia/Tokyo',
          ours: 'UTC',
        })
        expect(ours?.pid).toBe(theirs.pid) // one server connection, handed back and forth
      }
    } finally {
      await db.$disconnect()
      await other.end()
    }
  })

  it('keeps interleaved tenants apart on the one server connection, and no setting outlives its transaction', async () => {
    const acme = await organizationWithProjects('Acme', ['Rocket', 'Anvil'])
    const globex = await organizationWithProjects('Globex', ['Dome'])
    const expected: Record<string, string[]> = { [acme]: ['Anvil', 'Rocket'], [globex]: ['Dome'] }
    const db = appClient()
    try {
      const pids = new Set<number>()
      const step = async (i: number) => {
        if (i % 3 === 2) {
          // A query outside any tenant transaction, between theirs, on the same connection.
          const [row] = await db.$queryRaw<Array<{ org: string | null; pid: number }>>`
            SELECT current_setting('app.organization_id', true) AS org, pg_backend_pid() AS pid`
          pids.add(Number(row?.pid))
          expect(row?.org ?? '').toBe('')
          return
        }
        const organizationId = i % 2 === 0 ? acme : globex
        if (i % 3 === 1) {
          // A one-statement read (ADR 043): its settings and its statement in one pipeline,
          // one implicit transaction that PgBouncer hands back at its Sync.
          const [row] = await readWithTenant(
            db,
            { organizationId },
            () => db.$queryRaw<Array<{ org: string; pid: number }>>`
              SELECT current_setting('app.organization_id') AS org, pg_backend_pid() AS pid`,
          )
          pids.add(Number(row?.pid))
          expect(row?.org).toBe(organizationId)
          const projects = await readWithTenant(db, { organizationId }, (reader) =>
            reader.project.findMany({ orderBy: { name: 'asc' } }),
          )
          expect(projects.map((p) => p.name)).toEqual(expected[organizationId])
          return
        }
        await withTenant(db, { organizationId }, async (tx) => {
          const [row] = await tx.$queryRaw<Array<{ org: string; pid: number }>>`
            SELECT current_setting('app.organization_id') AS org, pg_backend_pid() AS pid`
          pids.add(Number(row?.pid))
          expect(row?.org).toBe(organizationId)
          const projects = await tx.project.findMany({ orderBy: { name: 'asc' } })
          expect(projects.map((p) => p.name)).toEqual(expected[organizationId])
          expect(new Set(projects.map((p) => p.organizationId))).toEqual(new Set([organizationId]))
        })
      }
      // Six clients at a time (the pool's size) compete for the one server connection;
      // more would only queue in the pool, past Prisma's 2 s wait to start a transaction.
      const pending = Array.from({ length: 60 }, (_, i) => i)
      const client = async () => {
        for (let i = pending.shift(); i !== undefined; i = pending.shift()) await step(i)
      }
      await Promise.all(Array.from({ length: 6 }, client))
      // Every transaction and query above ran on one and the same server connection.
      expect(pids.size).toBe(1)
      // And the next client on it finds no tenant left behind.
      const [after] = await queryThrough(
        TEST_APP_LOGIN,
        "SELECT current_setting('app.organization_id', true) AS org, current_setting('app.user_id', true) AS usr, pg_backend_pid() AS pid",
      )
      expect(after).toMatchObject({ pid: [...pids][0] })
      expect(after.org ?? '').toBe('')
      expect(after.usr ?? '').toBe('')
    } finally {
      await db.$disconnect()
    }
  })

  describe('the API', () => {
    let api: Awaited<ReturnType<typeof buildTestServer>>
    beforeAll(async () => {
      api = await buildTestServer({
        DATABASE_URL: bouncer.url(TEST_APP_LOGIN),
        REDIS_URL: services().redis.url,
      })
    })
    afterAll(() => api?.close())

    it('serves its routes, idempotent replays included, its named statements meaning the same on any server connection', async () => {
      expect((await api.inject({ url: '/readyz' })).statusCode).toBe(200)
      const { headers, orgId } = await signUpOwner(api)
      const create = (key: string, name: string) =>
        api.inject({
          method: 'POST',
          url: `/v1/orgs/${orgId}/projects`,
          headers: { ...headers, 'idempotency-key': key },
          payload: { name },
        })
      const first = await create('launch-1', 'Launch')
      expect(first.statusCode, first.body).toBe(201)
      const replay = await create('launch-1', 'Launch')
      expect(replay.statusCode).toBe(201)
      expect(replay.json().id).toBe(first.json().id)
      const second = await create('launch-2', 'Second')
      expect(second.statusCode, second.body).toBe(201)
      const names = async () => {
        const list = await api.inject({ url: `/v1/orgs/${orgId}/projects?limit=10`, headers })
        expect(list.statusCode, list.body).toBe(200)
        return list
          .json()
          .data.map((p: { name: string }) => p.name)
          .sort()
      }
      // The list's statements are named too (readSqlWithTenant).
      expect(await names()).toEqual(['Launch', 'Second'])
      // This PgBouncer (1.18) keeps no named statement per client: the write's names
      // (ADR 049) live on the server connection, where the next transaction, anyone's,
      // finds them. Each is named after its text, so whoever finds one runs the statement
      // it means.
      const prepared = await queryThrough(
        TEST_APP_LOGIN,
        'SELECT name, statement FROM pg_prepared_statements',
      )
      expect(prepared.map(({ statement }) => statement)).toEqual(
        expect.arrayContaining([
          expect.stringContaining('INSERT INTO projects'),
          expect.stringMatching(/^SELECT id, name, description, status, version/),
        ]),
      )
      for (const { name, statement } of prepared)
        expect(name).toBe(
          `groundwork_${createHash('sha256').update(statement).digest('hex').slice(0, 40)}`,
        )
      // Gone from the server connection (another client's DEALLOCATE, or a server
      // connection that never had them): the next read and write parse them again, the
      // write committing once.
      await queryThrough(TEST_APP_LOGIN, 'DEALLOCATE ALL')
      expect(await names()).toEqual(['Launch', 'Second'])
      await queryThrough(TEST_APP_LOGIN, 'DEALLOCATE ALL')
      const third = await create('launch-3', 'Third')
      expect(third.statusCode, third.body).toBe(201)
      expect(await names()).toEqual(['Launch', 'Second', 'Third'])
    })
  })
})

describe("the outbox listener's session database (ADR 038)", () => {
  it('delivers what a commit notifies through the session-mode database, and nothing through the transaction-mode one', async () => {
    const heard: Record<string, string[]> = { groundwork_listen: [], groundwork: [] }
    const listeners = await Promise.all(
      Object.keys(heard).map(async (database) => {
        const client = new pg.Client({ connectionString: bouncer.url(TEST_WORKER_LOGIN, database) })
        client.on('error', () => {})
        await client.connect()
        client.on('notification', (n) => heard[database]?.push(n.channel))
        await client.query('LISTEN outbox_messages')
        return client
      }),
    )
    try {
      // Three commits of the application through PgBouncer, each writing an outbox message:
      // the trigger notifies, the session listener hears each, one after the other.
      for (let commit = 1; commit <= 3; commit++) {
        await queryThrough(
          TEST_APP_LOGIN,
          "INSERT INTO outbox_messages (id, queue, job_name, data, options) VALUES (gen_random_uuid(), 'q', 'j', '{}', '{}')",
        )
        await expect.poll(() => heard.groundwork_listen?.length).toBe(commit)
      }
      // The transaction-mode listener heard none, not even the first: its LISTEN ran on a
      // server connection that went back to the pool, and PgBouncer drops what a server
      // connection says while no client holds it.
      expect(heard.groundwork).toEqual([])
      // The session keeps its server connection, and with it the LISTEN.
      expect(
        (await listeners[0]?.query('SELECT pg_listening_channels() AS channel'))?.rows,
      ).toEqual([{ channel: 'outbox_messages' }])
      // The pooled server connection still listens, for whichever client holds it next:
      // take the LISTEN off it (one server connection per login here, so it is the one).
      await listeners[1]?.query('UNLISTEN *')
    } finally {
      await Promise.all(listeners.map((client) => client.end().catch(() => {})))
    }
  })
})

describe("a preview's PgBouncer", () => {
  it('runs its configuration as shipped, TLS to its own Postgres turned off by pools.ini', async () => {
    const { database } = services()
    const server = new URL(database.url)
    const preview = await startPgbouncer(
      await renderRelease('preview'),
      { host: server.hostname, port: Number(server.port), database: database.name },
      { app: TEST_APP_LOGIN, worker: TEST_WORKER_LOGIN },
      { defaultPoolSize: 1 },
    )
    try {
      const client = new pg.Client({ connectionString: preview.url(TEST_APP_LOGIN) })
      await client.connect()
      try {
        const { rows } = await client.query(
          'SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()',
        )
        expect(rows).toEqual([{ ssl: false }])
      } finally {
        await client.end()
      }
    } finally {
      await preview.stop()
    }
  }, 90_000)
})
