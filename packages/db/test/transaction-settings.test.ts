import { randomUUID } from 'node:crypto'
import { PrismaPg } from '@prisma/adapter-pg'
import { useIsolatedServices } from '@repo/testing'
import pg from 'pg'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { PrismaClient as GeneratedClient } from '../src/generated/prisma/client.ts'
import {
  ClaimLostError,
  createDatabaseClient,
  databasePool,
  Prisma,
  type PrismaClient,
  readSqlWithTenant,
  readWithTenant,
  runHoldingClaim,
  type TenantReader,
  type TenantTransaction,
  withNoContext,
  withPresentedSecret,
  withTenant,
  withUser,
} from '../src/index.ts'
import { startWithSettings, TransactionSettingsClient } from '../src/transaction-settings.ts'
import {
  claimFor,
  clientConfig,
  namedStatementsOn,
  oneConnectionClient,
  seedTwoTenants,
} from './catalog.ts'
import { type RoundTrip, startWireRecorder, type WireRecorder } from './wire-recorder.ts'

// A tenant transaction's BEGIN carries its row-level security settings: one round trip
// fewer for every unit of work (docs/decisions/037). Counted on the wire, through a proxy
// that reads what the driver really sends; isolation proven on a pool of ONE connection.
const services = useIsolatedServices()
let recorder: WireRecorder
let admin: PrismaClient
/** The application's login through createDatabaseClient, on a pool of one connection. */
let app: PrismaClient
/** The same, with three connections, for transactions inside transactions. */
let app3: PrismaClient
/** A client not made by createDatabaseClient: a plain pool, no fast path. */
let plain: PrismaClient
/** The application's login with an onQuery listener, which fills `heard`. */
let listened: PrismaClient
const heard: Array<{ sql: string; params: readonly unknown[] }> = []

const ids = { orgA: randomUUID(), orgB: randomUUID(), alice: randomUUID(), bob: randomUUID() }
const empty = (value: string | null) => value === null || value === ''

beforeAll(async () => {
  const { database } = services()
  recorder = await startWireRecorder(database.appUrl)
  const appUrl = recorder.url(database.appUrl)
  admin = createDatabaseClient(clientConfig(database.url))
  app = createDatabaseClient({ ...clientConfig(appUrl), DATABASE_POOL_MAX: 1 })
  app3 = createDatabaseClient({ ...clientConfig(appUrl), DATABASE_POOL_MAX: 3 })
  plain = new GeneratedClient({ adapter: new PrismaPg({ connectionString: appUrl, max: 1 }) })
  listened = createDatabaseClient(
    { ...clientConfig(appUrl), DATABASE_POOL_MAX: 1 },
    (sql, params) => heard.push({ sql, params }),
  )
  await seedTwoTenants(admin, ids)
  // Connections opened (and authenticated) before any test counts round trips.
  await Promise.all([app, app3, plain].map((db) => db.$queryRaw`SELECT 1`))
})
afterAll(async () => {
  await Promise.all([admin, app, app3, plain, listened].map((db) => db?.$disconnect()))
  await recorder?.close()
})
beforeEach(() => recorder.clear())

/** What the transaction's policies read, and which server connection it runs on. */
async function context(tx: TenantTransaction | PrismaClient) {
  const [row] = await (tx as PrismaClient).$queryRaw<
    { org: string | null; usr: string | null; secret: string | null; pid: number }[]
  >`SELECT current_setting('app.organization_id', true) AS org,
      current_setting('app.user_id', true) AS usr,
      current_setting('app.secret_hash', true) AS secret, pg_backend_pid() AS pid`
  if (!row) throw new Error('no row')
  return row
}

const begin = (org: string, user: string, secret: string): RoundTrip => ({
  protocol: 'simple',
  sql: `BEGIN; SELECT set_config('app.organization_id', '${org}', true), set_config('app.user_id', '${user}', true), set_config('app.secret_hash', '${secret}', true)`,
})
const COMMIT: RoundTrip = { protocol: 'simple', sql: 'COMMIT' }
const query = (text: string): RoundTrip => ({
  protocol: 'extended',
  sql: expect.stringContaining(text),
})

describe('a tenant transaction on a client of createDatabaseClient', () => {
  it('sends BEGIN and the settings in one round trip: a one-query read costs three', async () => {
    const members = await withTenant(app, { organizationId: ids.orgA, userId: ids.alice }, (tx) =>
      tx.membership.findMany(),
    )
    expect(members.map((m) => m.organizationId)).toEqual([ids.orgA])
    expect(recorder.roundTrips).toEqual([
      begin(ids.orgA, ids.alice, ''),
      query('FROM "public"."memberships"'),
      COMMIT,
    ])
  })

  it('carries exactly the context of each helper', async () => {
    expect(await withUser(app, ids.bob, context)).toMatchObject({
      org: '',
      usr: ids.bob,
      secret: '',
    })
    expect(await withNoContext(app, context)).toMatchObject({ org: '', usr: '', secret: '' })
    const hash = 'f'.repeat(64)
    expect(await withPresentedSecret(app, hash, context)).toMatchObject({ secret: hash })
    const edges = recorder.roundTrips.filter((trip) => /^(BEGIN|COMMIT)/.test(trip.sql))
    expect(edges).toEqual([
      begin('', ids.bob, ''),
      COMMIT,
      begin('', '', ''),
      COMMIT,
      begin('', '', hash),
      COMMIT,
    ])
  })

  it('escapes the values it writes into the statement', async () => {
    const secret = `it's a \\ "quote"'); SELECT set_config('app.organization_id', '${ids.orgB}', true); --`
    const seen = await withPresentedSecret(app, secret, context)
    expect(seen).toMatchObject({ org: '', secret })
    expect(recorder.roundTrips).toHaveLength(3)
  })

  it('never writes a NUL character into the statement: the parameterised fallback refuses it', async () => {
    await expect(withPresentedSecret(app, 'a\0b', context)).rejects.toMatchObject({
      meta: { driverAdapterError: { cause: { code: '22021' } } }, // invalid byte sequence
    })
    expect(recorder.roundTrips[0]).toEqual({ protocol: 'simple', sql: 'BEGIN' })
    expect(empty((await context(app)).secret)).toBe(true)
  })

  it('marks a held Idempotency-Key claim in one statement, atomically with the change', async () => {
    const claim = await claimFor(admin, ids.orgA)
    const project = await runHoldingClaim(claim, () =>
      withTenant(app, { organizationId: ids.orgA }, (tx) =>
        tx.project.create({ data: { organizationId: ids.orgA, name: 'Marked' } }),
      ),
    )
    expect(recorder.roundTrips).toEqual([
      begin(ids.orgA, '', ''),
      query('INSERT INTO "public"."projects"'),
      query('app_mark_idempotency_effect'),
      COMMIT,
    ])
    const key = await admin.idempotencyKey.findUniqueOrThrow({
      where: { scopeHash: claim.scopeHash },
    })
    expect(key.effectCommittedAt).toBeInstanceOf(Date)
    expect(await admin.project.count({ where: { id: project.id } })).toBe(1)
  })

  it('rolls the change back when the claim was taken over', async () => {
    const claim = await claimFor(admin, ids.orgA)
    const stale = { ...claim, lockedUntil: new Date(claim.lockedUntil.getTime() - 1) }
    await expect(
      runHoldingClaim(stale, () =>
        withTenant(app, { organizationId: ids.orgA }, (tx) =>
          tx.project.create({ data: { organizationId: ids.orgA, name: 'Taken over' } }),
        ),
      ),
    ).rejects.toBeInstanceOf(ClaimLostError)
    expect(await admin.project.count({ where: { name: 'Taken over' } })).toBe(0)
    const key = await admin.idempotencyKey.findUniqueOrThrow({
      where: { scopeHash: claim.scopeHash },
    })
    expect(key.effectCommittedAt).toBeNull()
  })

  it('presents the claim only for the marking: the rest of the transaction sees no secret', async () => {
    const claim = await claimFor(admin, ids.orgA)
    const client = new pg.Client({ connectionString: services().database.appUrl })
    await client.connect()
    try {
      await client.query('BEGIN')
      const marked = await client.query<{ marked: number }>(
        'SELECT app_mark_idempotency_effect($1, $2) AS marked',
        [claim.scopeHash, claim.lockedUntil],
      )
      expect(marked.rows).toEqual([{ marked: 1 }])
      const after = await client.query<{ secret: string | null; visible: string }>(
        `SELECT current_setting('app.secret_hash', true) AS secret,
           (SELECT count(*) FROM idempotency_keys)::text AS visible`,
      )
      expect(after.rows[0]?.visible).toBe('0')
      expect(empty(after.rows[0]?.secret ?? null)).toBe(true)
      await client.query('COMMIT')
    } finally {
      await client.end()
    }
  })
})

describe('the connection class', () => {
  it("answers the adapter's BEGIN as a plain BEGIN would, with the settings applied", async () => {
    const client = new TransactionSettingsClient({ connectionString: services().database.appUrl })
    await client.connect()
    try {
      // What @prisma/adapter-pg's startTransaction sends (dist/index.mjs, PrismaPgAdapter).
      const adapterBegin = { text: 'BEGIN', values: [], rowMode: 'array' as const }
      const answer = await startWithSettings({ organizationId: ids.orgA }, async (sent) => {
        const result = await client.query(adapterBegin)
        return { result, sent: sent() }
      })
      expect(answer.sent).toBe(true)
      expect(answer.result).toMatchObject({ command: 'BEGIN', rowCount: null, rows: [] })
      const { rows } = await client.query(`SELECT current_setting('app.organization_id') AS org`)
      expect(rows).toEqual([{ org: ids.orgA }])
      await client.query('ROLLBACK')
    } finally {
      await client.end()
    }
  })
})

describe('one pooled connection shared by tenants', () => {
  it('interleaves many transactions of two tenants: each sees its own rows and settings, none is left behind', async () => {
    const orgOf = (i: number) => (i % 2 === 0 ? ids.orgA : ids.orgB)
    const runs = await Promise.all(
      Array.from({ length: 30 }, async (_, i) => {
        // Between the transactions, plain statements on the same connection: no context.
        if (i % 3 === 2) return { kind: 'between' as const, seen: await context(app) }
        const organizationId = orgOf(i)
        return withTenant(app, { organizationId }, async (tx) => ({
          kind: 'tenant' as const,
          organizationId,
          seen: await context(tx),
          members: (await tx.membership.findMany()).map((m) => m.organizationId),
        }))
      }),
    )
    const pids = new Set(runs.map((run) => run.seen.pid))
    expect(pids.size).toBe(1) // truly one server connection
    for (const run of runs) {
      if (run.kind === 'between') expect(empty(run.seen.org), JSON.stringify(run)).toBe(true)
      else {
        expect(run.seen.org).toBe(run.organizationId)
        expect(run.members).toEqual([run.organizationId])
      }
    }
    // Every one of them waited for the connection, and still sent its settings with BEGIN
    // (the async context reaches the BEGIN through the pool's queue): no statement of
    // their own, only BEGIN, two queries and COMMIT for each, and each check's query.
    const tenantRuns = runs.filter((run) => run.kind === 'tenant').length
    const begins = recorder.roundTrips.filter((trip) => trip.sql.startsWith('BEGIN'))
    expect(begins).toHaveLength(tenantRuns)
    expect(begins.every((trip) => trip.sql.startsWith('BEGIN; SELECT set_config'))).toBe(true)
    expect(recorder.roundTrips).toHaveLength(tenantRuns * 4 + (runs.length - tenantRuns))
    expect(recorder.roundTrips.filter((trip) => trip.sql.includes('set_config'))).toEqual(begins)
    expect(empty((await context(app)).org)).toBe(true)
  })

  it('leaves no setting behind when a statement fails or the work throws', async () => {
    await expect(
      withTenant(app, { organizationId: ids.orgA, userId: ids.alice }, async (tx) => {
        await tx.membership.findMany()
        await tx.$executeRaw`SELECT 1 / 0`
      }),
    ).rejects.toThrow(/division by zero/)
    const afterFailure = await context(app)
    expect([afterFailure.org, afterFailure.usr].every(empty)).toBe(true)

    let inside = 0
    await expect(
      withTenant(app, { organizationId: ids.orgB }, async (tx) => {
        await tx.project.create({ data: { organizationId: ids.orgB, name: 'Rolled back' } })
        inside = (await context(tx)).pid
        throw new Error('after the write')
      }),
    ).rejects.toThrow('after the write')
    const afterThrow = await context(app)
    expect(afterThrow.pid).toBe(inside) // the same connection, back in the pool
    expect(empty(afterThrow.org)).toBe(true)
    expect(await admin.project.count({ where: { name: 'Rolled back' } })).toBe(0)
  })
})

describe('a one-statement read (readWithTenant)', () => {
  /** The statement's own view of its context: raw SQL on the client, one statement. */
  const seenBy = () => context(app)
  const SETTINGS = expect.stringMatching(
    /^SELECT set_config\('app.organization_id', \$1, true\), set_config\('app.user_id', \$2, true\), set_config\('app.secret_hash', \$3, true\), set_config\('transaction_read_only', 'on', true\); /,
  )

  it("sends the settings with the statement in one round trip, no BEGIN or COMMIT, and sees the tenant's rows", async () => {
    const members = await readWithTenant(app, { organizationId: ids.orgB }, (db) =>
      db.membership.findMany(),
    )
    expect(members.map((m) => m.organizationId)).toEqual([ids.orgB])
    expect(recorder.roundTrips).toEqual([{ protocol: 'extended', sql: SETTINGS }])
    expect(recorder.roundTrips[0]?.sql).toContain('FROM "public"."memberships"')
    const seen = await readWithTenant(app, { organizationId: ids.orgA, userId: ids.alice }, seenBy)
    expect(seen).toMatchObject({ org: ids.orgA, usr: ids.alice, secret: '' })
  })

  it('answers exactly as the same query without settings: columns, types and row counts', async () => {
    const [viaRead, viaTransaction] = await Promise.all([
      readWithTenant(app, { organizationId: ids.orgA, userId: ids.alice }, (db) =>
        db.organization.findMany({ orderBy: { createdAt: 'asc' } }),
      ),
      withTenant(app, { organizationId: ids.orgA, userId: ids.alice }, (tx) =>
        tx.organization.findMany({ orderBy: { createdAt: 'asc' } }),
      ),
    ])
    expect(viaRead.length).toBeGreaterThan(0)
    expect(viaRead).toEqual(viaTransaction)
    expect(viaRead[0]?.createdAt).toBeInstanceOf(Date)
    expect(
      await readWithTenant(app, { organizationId: ids.orgB }, (db) => db.project.count()),
    ).toBe(await withTenant(app, { organizationId: ids.orgB }, (tx) => tx.project.count()))
  })

  it('leaves nothing behind on its connection: no setting, and the connection writes again', async () => {
    const inside = await readWithTenant(
      app,
      { organizationId: ids.orgA, userId: ids.alice },
      seenBy,
    )
    const after = await context(app)
    expect(after.pid).toBe(inside.pid) // the pool's one connection
    expect([after.org, after.usr].every(empty)).toBe(true)
    const [mode] = await app.$queryRaw<
      { ro: string }[]
    >`SELECT current_setting('transaction_read_only') AS ro`
    expect(mode).toEqual({ ro: 'off' })
  })

  it('interleaves many reads of two tenants on one connection, each waiting for it: each sees only its own', async () => {
    const orgOf = (i: number) => (i % 2 === 0 ? ids.orgA : ids.orgB)
    const runs = await Promise.all(
      Array.from({ length: 40 }, async (_, i) => {
        if (i % 5 === 4) return { organizationId: '', seen: await context(app), members: [] }
        const organizationId = orgOf(i)
        const [seen, members] = await Promise.all([
          readWithTenant(app, { organizationId }, seenBy),
          readWithTenant(app, { organizationId }, (db) => db.membership.findMany()),
        ])
        return { organizationId, seen, members: members.map((m) => m.organizationId) }
      }),
    )
    expect(new Set(runs.map((run) => run.seen.pid)).size).toBe(1)
    for (const run of runs) {
      expect(run.seen.org ?? '', JSON.stringify(run)).toBe(run.organizationId)
      if (run.organizationId) expect(run.members).toEqual([run.organizationId])
    }
    // One round trip each, the settings with every read and with nothing else.
    expect(recorder.roundTrips).toHaveLength(runs.length + 32)
    expect(recorder.roundTrips.filter((trip) => trip.sql.includes('set_config'))).toHaveLength(64)
    expect(empty((await context(app)).org)).toBe(true)
  })

  it('passes hostile values as parameters: they set nothing else and change no statement', async () => {
    const hostile = `x'); SELECT set_config('app.organization_id', '${ids.orgA}', true); --`
    const seen = await readWithTenant(app, { organizationId: ids.orgB, userId: hostile }, seenBy)
    expect(seen).toMatchObject({ org: ids.orgB, usr: hostile })
    expect(recorder.roundTrips[0]?.sql).not.toContain(hostile)
    // NUL cannot be a parameter's text either: Postgres refuses it, and nothing is left.
    await expect(
      readWithTenant(app, { organizationId: 'a\0b' }, (db) => db.membership.findMany()),
    ).rejects.toMatchObject({ meta: { driverAdapterError: { cause: { code: '22021' } } } })
    expect(empty((await context(app)).org)).toBe(true)
  })

  it('refuses a write: a statement that is not a read is not sent, and a read that writes fails read-only', async () => {
    await expect(
      readWithTenant(app, { organizationId: ids.orgA }, () =>
        app.project.create({ data: { organizationId: ids.orgA, name: 'Written by a read' } }),
      ),
    ).rejects.toThrow(/carries one read/)
    await expect(
      readWithTenant(
        app,
        { organizationId: ids.orgA },
        () =>
          app.$queryRaw`WITH written AS (
          INSERT INTO projects (id, organization_id, name, updated_at)
          VALUES (gen_random_uuid(), ${ids.orgA}::uuid, 'Written by a read', now()) RETURNING id
        ) SELECT count(*)::int AS n FROM written`,
      ),
    ).rejects.toMatchObject({ meta: { driverAdapterError: { cause: { code: '25006' } } } })
    expect(await admin.project.count({ where: { name: 'Written by a read' } })).toBe(0)
  })

  it('refuses a second statement and a transaction, instead of running them without settings', async () => {
    // A relation Prisma loads with a query of its own is a second statement.
    await expect(
      readWithTenant(app, { organizationId: ids.orgA }, (db) =>
        db.membership.findMany({ include: { user: true } }),
      ),
    ).rejects.toThrow(/sends one statement and this read sent a second/)
    await expect(
      readWithTenant(app, { organizationId: ids.orgA }, async (db) => {
        await db.membership.findMany()
        return db.project.findMany()
      }),
    ).rejects.toThrow(/sends one statement and this read sent a second/)
    await expect(
      readWithTenant(app, { organizationId: ids.orgA }, () =>
        app.$transaction((tx) => tx.project.findMany()),
      ),
    ).rejects.toThrow(/transaction was started inside readWithTenant/)
    // Nor as a statement of its own: it would leave the connection in an open transaction,
    // with the settings, for the next borrower.
    for (const statement of [app.$executeRaw`START TRANSACTION`, app.$executeRaw`BEGIN`])
      await expect(
        readWithTenant(app, { organizationId: ids.orgA }, () => statement),
      ).rejects.toThrow(/carries one read/)
    // Outside it, the same client is as it was.
    expect(await withTenant(app, { organizationId: ids.orgA }, (tx) => tx.membership.count())).toBe(
      1,
    )
    expect(empty((await context(app)).org)).toBe(true)
  })

  it('hands out a reader with read methods only, whatever a cast says', async () => {
    for (const reach of [
      (db: TenantReader) =>
        (db as unknown as PrismaClient).project.findUnique({ where: { id: ids.orgA } }),
      (db: TenantReader) => (db as unknown as PrismaClient).project.deleteMany(),
      (db: TenantReader) => (db as unknown as PrismaClient).$queryRaw`SELECT 1`,
      (db: TenantReader) => (db as unknown as PrismaClient).$transaction([]),
    ])
      await expect(readWithTenant(app, { organizationId: ids.orgA }, reach)).rejects.toThrow(
        /readWithTenant's reader (cannot|has the models only)/,
      )
    // The type says so too (a compile-time check: typecheck fails if findUnique appears).
    const typeOnly = (db: TenantReader) =>
      // @ts-expect-error findUnique is batched across callers: the reader's type has none
      db.project.findUnique
    expect(typeOnly).toBeTypeOf('function')
    expect(recorder.roundTrips).toEqual([])
  })

  it('leaves work it started, which outlives it, to go out as if there were no read', async () => {
    let open: () => void = () => {}
    const gate = new Promise<void>((resolve) => {
      open = resolve
    })
    let later: Promise<{ plain: Awaited<ReturnType<typeof context>>; members: number }> | undefined
    await readWithTenant(app, { organizationId: ids.orgA }, (db) => {
      // Started inside the read, run after it: neither refused nor given its settings.
      later = gate.then(async () => ({
        plain: await context(app),
        members: await withTenant(app, { organizationId: ids.orgB }, (tx) => tx.membership.count()),
      }))
      return db.membership.findMany()
    })
    open()
    const after = await later
    expect(empty(after?.plain.org ?? null)).toBe(true)
    expect(after?.members).toBe(1)
  })

  it('leaves no setting behind when its statement fails', async () => {
    await expect(
      readWithTenant(app, { organizationId: ids.orgA }, () => app.$queryRaw`SELECT 1 / 0`),
    ).rejects.toThrow(/division by zero/)
    expect(empty((await context(app)).org)).toBe(true)
  })

  it('runs in a read-only withTenant transaction on a client not made by createDatabaseClient', async () => {
    const members = await readWithTenant(plain, { organizationId: ids.orgB }, (db) =>
      db.membership.findMany(),
    )
    expect(members.map((m) => m.organizationId)).toEqual([ids.orgB])
    expect(recorder.roundTrips.slice(0, 3)).toEqual([
      { protocol: 'simple', sql: 'BEGIN' },
      query("set_config('app.organization_id'"),
      { protocol: 'simple', sql: "SELECT set_config('transaction_read_only', 'on', true)" },
    ])
    // BEGIN, the settings, read-only, the read, COMMIT (ADR 043).
    expect(recorder.roundTrips).toHaveLength(5)
  })

  it('marks no Idempotency-Key claim, on either path: a read is no effect', async () => {
    for (const db of [app, plain]) {
      const claim = await claimFor(admin, ids.orgA)
      await runHoldingClaim(claim, () =>
        readWithTenant(db, { organizationId: ids.orgA }, (reader) => reader.project.findMany()),
      )
      const key = await admin.idempotencyKey.findUniqueOrThrow({
        where: { scopeHash: claim.scopeHash },
      })
      expect(key.effectCommittedAt).toBeNull()
    }
  })
})

describe('one statement of our own SQL (readSqlWithTenant)', () => {
  type Seen = { org: string | null; usr: string | null; pid: number }
  const SEEN = Prisma.sql`SELECT current_setting('app.organization_id', true) AS org,
    current_setting('app.user_id', true) AS usr, pg_backend_pid() AS pid`
  const MEMBERSHIPS = Prisma.sql`SELECT organization_id AS "organizationId", created_at AS "createdAt"
    FROM memberships ORDER BY created_at`

  it("sends the settings with the statement in one round trip and sees the tenant's rows, as Prisma types them", async () => {
    const members = await readSqlWithTenant<{ organizationId: string; createdAt: Date }>(
      app,
      { organizationId: ids.orgB },
      MEMBERSHIPS,
    )
    expect(members.map((m) => m.organizationId)).toEqual([ids.orgB])
    expect(members[0]?.createdAt).toBeInstanceOf(Date)
    const viaPrisma = await readWithTenant(app, { organizationId: ids.orgB }, (db) =>
      db.membership.findMany({ select: { organizationId: true, createdAt: true } }),
    )
    expect(members).toEqual(viaPrisma)
    recorder.clear()
    const [seen] = await readSqlWithTenant<Seen>(
      app,
      { organizationId: ids.orgA, userId: ids.alice },
      SEEN,
    )
    expect(seen).toMatchObject({ org: ids.orgA, usr: ids.alice })
    expect(recorder.roundTrips).toEqual([
      {
        protocol: 'extended',
        sql: expect.stringMatching(
          /^SELECT set_config\('app.organization_id'.*transaction_read_only.*; SELECT current_setting/s,
        ),
      },
    ])
  })

  it('interleaves many reads of two tenants on one connection: each sees only its own, nothing is left behind', async () => {
    const orgOf = (i: number) => (i % 2 === 0 ? ids.orgA : ids.orgB)
    const runs = await Promise.all(
      Array.from({ length: 40 }, async (_, i) => {
        const organizationId = orgOf(i)
        const [[seen], members] = await Promise.all([
          readSqlWithTenant<Seen>(app, { organizationId }, SEEN),
          readSqlWithTenant<{ organizationId: string }>(app, { organizationId }, MEMBERSHIPS),
        ])
        return { organizationId, seen, members: members.map((m) => m.organizationId) }
      }),
    )
    expect(new Set(runs.map((run) => run.seen?.pid)).size).toBe(1)
    for (const run of runs) {
      expect(run.seen?.org, JSON.stringify(run)).toBe(run.organizationId)
      expect(run.members).toEqual([run.organizationId])
    }
    expect(recorder.roundTrips).toHaveLength(80)
    expect(empty((await context(app)).org)).toBe(true)
  })

  it('binds hostile values as parameters, and hands the statement and its values to onQuery', async () => {
    const hostile = `x' OR true; SELECT set_config('app.organization_id', '${ids.orgA}', true); --`
    heard.length = 0
    const rows = await readSqlWithTenant<{ name: string }>(
      listened,
      { organizationId: ids.orgB },
      Prisma.sql`SELECT name FROM organizations WHERE name = ${hostile} OR id = ${ids.orgA}::uuid`,
    )
    // orgA is another tenant: row-level security hides it even when named.
    expect(rows).toEqual([])
    expect(heard).toEqual([
      {
        sql: expect.stringContaining('WHERE name = $1 OR id = $2::uuid'),
        params: [hostile, ids.orgA],
      },
    ])
  })

  it('refuses a write: one that is not a read is never sent, and a read that writes fails read-only', async () => {
    heard.length = 0
    await expect(
      readSqlWithTenant(listened, { organizationId: ids.orgA }, Prisma.sql`DELETE FROM projects`),
    ).rejects.toThrow(/carries one read/)
    expect(heard).toEqual([]) // never sent, so never reported
    await expect(
      readSqlWithTenant(
        app,
        { organizationId: ids.orgA },
        Prisma.sql`INSERT INTO projects (id, organization_id, name, updated_at)
          VALUES (gen_random_uuid(), ${ids.orgA}::uuid, 'Written by a read', now()) RETURNING id`,
      ),
    ).rejects.toThrow(/carries one read/)
    await expect(
      readSqlWithTenant(
        app,
        { organizationId: ids.orgA },
        Prisma.sql`WITH written AS (
          INSERT INTO projects (id, organization_id, name, updated_at)
          VALUES (gen_random_uuid(), ${ids.orgA}::uuid, 'Written by a read', now()) RETURNING id
        ) SELECT count(*)::int AS n FROM written`,
      ),
    ).rejects.toMatchObject({ code: '25006' })
    expect(await admin.project.count({ where: { name: 'Written by a read' } })).toBe(0)
    expect(empty((await context(app)).org)).toBe(true)
  })

  it('leaves no setting behind when its statement fails, and the connection serves again', async () => {
    await expect(
      readSqlWithTenant(app, { organizationId: ids.orgA }, Prisma.sql`SELECT 1 / 0`),
    ).rejects.toThrow(/division by zero/)
    expect(empty((await context(app)).org)).toBe(true)
    const [seen] = await readSqlWithTenant<Seen>(app, { organizationId: ids.orgB }, SEEN)
    expect(seen?.org).toBe(ids.orgB)
  })

  it('on a client Prisma never used: survives the server ending its idle connection, tells its owner, and $disconnect ends the pool', async () => {
    const lost: Array<{ details: object; message: string }> = []
    const aside = createDatabaseClient(
      { ...clientConfig(services().database.appUrl), DATABASE_POOL_MAX: 1 },
      undefined,
      { warn: (details, message) => lost.push({ details, message }) },
    )
    const pool = databasePool(aside) as pg.Pool
    try {
      const [first] = await readSqlWithTenant<Seen>(aside, { organizationId: ids.orgA }, SEEN)
      // The pool drops a connection the server ended; unheard, its 'error' event would end
      // this process (Vitest fails the run on it). The owner's logger hears it.
      await admin.$queryRaw`SELECT pg_terminate_backend(${first?.pid}::int)`
      await expect.poll(() => pool.totalCount).toBe(0)
      await expect.poll(() => lost.length).toBe(1)
      expect(lost[0]).toEqual({
        details: { err: expect.objectContaining({ message: expect.stringMatching(/terminat/i) }) },
        message: expect.stringContaining('ended an idle pooled connection'),
      })
      const [again] = await readSqlWithTenant<Seen>(aside, { organizationId: ids.orgB }, SEEN)
      expect(again?.org).toBe(ids.orgB)
      expect(again?.pid).not.toBe(first?.pid)
    } finally {
      await aside.$disconnect()
    }
    expect(pool.ended).toBe(true)
  })

  it("is refused inside a transaction's callback, where it would read apart from the transaction", async () => {
    await expect(
      withTenant(app3, { organizationId: ids.orgA }, () =>
        readSqlWithTenant(app3, { organizationId: ids.orgA }, SEEN),
      ),
    ).rejects.toThrow(/would read apart from it/)
    // After the transaction, the same read runs.
    const [seen] = await readSqlWithTenant<Seen>(app3, { organizationId: ids.orgA }, SEEN)
    expect(seen?.org).toBe(ids.orgA)
  })

  it('needs a client of createDatabaseClient: another has no pool to carry the settings', async () => {
    await expect(readSqlWithTenant(plain, { organizationId: ids.orgA }, SEEN)).rejects.toThrow(
      /needs a client made by createDatabaseClient/,
    )
    expect(recorder.roundTrips).toEqual([])
  })
})

describe('one statement of our own SQL, prepared by name (readSqlWithTenant, ADR 049)', () => {
  /** A read whose text no other test sends: its name is new to every connection. */
  const freshRead = (tag = randomUUID()) => Prisma.sql`
    SELECT name, current_setting('app.organization_id', true) AS org /* ${Prisma.raw(tag)} */
    FROM organizations ORDER BY name`
  /** The application's login through the recorder, on a pool of one connection. */
  const oneConnection = (config: { DATABASE_NAMED_STATEMENTS?: boolean } = {}) =>
    oneConnectionClient(recorder.url(services().database.appUrl), config)
  const preparedOnConnection = namedStatementsOn
  const orgB = () => [{ name: expect.any(String), org: ids.orgB }]

  it('parses the settings and the read once per connection, then only binds them by name', async () => {
    const tag = randomUUID()
    const answers = []
    for (let i = 0; i < 3; i++)
      answers.push(await readSqlWithTenant(app, { organizationId: ids.orgB }, freshRead(tag)))
    // Row-level security still scopes each: one organization, read under its own settings.
    for (const rows of answers) expect(rows).toEqual(orgB())
    expect(recorder.roundTrips).toHaveLength(3)
    expect(recorder.parses[0]).toBeGreaterThanOrEqual(1)
    expect(recorder.parses.slice(1)).toEqual([0, 0])
    const held = await preparedOnConnection(app)
    expect(held.filter((s) => s.statement.includes(tag))).toEqual([
      { name: expect.stringMatching(/^groundwork_[0-9a-f]{40}$/), statement: expect.any(String) },
    ])
    // The read-only settings statement is prepared under a name of its own.
    expect(held.filter((s) => s.statement.includes('transaction_read_only'))).toHaveLength(1)
    // Another tenant's read binds the same statements, and sees its own rows only.
    recorder.clear()
    const [seen] = await readSqlWithTenant<{ org: string }>(
      app,
      { organizationId: ids.orgA },
      freshRead(tag),
    )
    expect(seen?.org).toBe(ids.orgA)
    expect(recorder.parses).toEqual([0])
  })

  it('survives its statements vanishing from the connection (DEALLOCATE, a pooler): read once more', async () => {
    const db = oneConnection()
    try {
      const tag = randomUUID()
      expect(await readSqlWithTenant(db, { organizationId: ids.orgB }, freshRead(tag))).toEqual(
        orgB(),
      )
      await db.$executeRawUnsafe('DEALLOCATE ALL')
      recorder.clear()
      expect(await readSqlWithTenant(db, { organizationId: ids.orgB }, freshRead(tag))).toEqual(
        orgB(),
      )
      // The first attempt failed at its first Bind (26000); the second parsed both again.
      expect(recorder.roundTrips).toHaveLength(2)
      expect(recorder.parses).toEqual([0, 2])
      recorder.clear()
      await readSqlWithTenant(db, { organizationId: ids.orgB }, freshRead(tag))
      expect(recorder.parses).toEqual([0])
    } finally {
      await db.$disconnect()
    }
  })

  it("survives a migration that changes a prepared read's columns: read once more, answering the new ones", async () => {
    const tag = randomUUID()
    const readAll = Prisma.sql`SELECT * FROM organizations /* ${Prisma.raw(tag)} */`
    await readSqlWithTenant(app, { organizationId: ids.orgB }, readAll)
    await admin.$executeRawUnsafe('ALTER TABLE organizations ADD COLUMN added_by_migration integer')
    try {
      recorder.clear()
      const rows = await readSqlWithTenant(app, { organizationId: ids.orgB }, readAll)
      expect(rows).toEqual([expect.objectContaining({ id: ids.orgB, added_by_migration: null })])
      expect(recorder.roundTrips).toHaveLength(2)
    } finally {
      await admin.$executeRawUnsafe('ALTER TABLE organizations DROP COLUMN added_by_migration')
    }
  })

  it('retries nothing else, and keeps its connection after a refused read', async () => {
    const tag = randomUUID()
    const [before] = await readSqlWithTenant<{ pid: number }>(
      app,
      { organizationId: ids.orgA },
      Prisma.sql`SELECT pg_backend_pid() AS pid`,
    )
    recorder.clear()
    await expect(
      readSqlWithTenant(
        app,
        { organizationId: ids.orgA },
        Prisma.sql`SELECT 1 / ${0}::int /* ${Prisma.raw(tag)} */`,
      ),
    ).rejects.toMatchObject({ code: '22012' })
    expect(recorder.roundTrips).toHaveLength(1)
    const [after] = await readSqlWithTenant<{ pid: number }>(
      app,
      { organizationId: ids.orgA },
      Prisma.sql`SELECT pg_backend_pid() AS pid`,
    )
    expect(after?.pid).toBe(before?.pid)
  })

  it('sends them unnamed, parsed every time, with DATABASE_NAMED_STATEMENTS=false', async () => {
    const unnamed = oneConnection({ DATABASE_NAMED_STATEMENTS: false })
    try {
      const tag = randomUUID()
      await unnamed.$queryRaw`SELECT 1`
      recorder.clear()
      for (let i = 0; i < 2; i++)
        expect(
          await readSqlWithTenant(unnamed, { organizationId: ids.orgB }, freshRead(tag)),
        ).toEqual(orgB())
      expect(recorder.parses).toEqual([2, 2])
      expect(await preparedOnConnection(unnamed)).toEqual([])
    } finally {
      await unnamed.$disconnect()
    }
  })
})

describe('a client not made by createDatabaseClient', () => {
  it('gets the settings from a statement of their own: correct, one round trip more', async () => {
    const seen = await withTenant(plain, { organizationId: ids.orgB }, async (tx) => ({
      context: await context(tx),
      members: (await tx.membership.findMany()).map((m) => m.organizationId),
    }))
    expect(seen.context.org).toBe(ids.orgB)
    expect(seen.members).toEqual([ids.orgB])
    expect(recorder.roundTrips.slice(0, 2)).toEqual([
      { protocol: 'simple', sql: 'BEGIN' },
      query("set_config('app.organization_id'"),
    ])
    expect(recorder.roundTrips).toHaveLength(5)
    expect(empty((await context(plain)).org)).toBe(true)
  })

  it("lends its settings to no other transaction's BEGIN, on any client", async () => {
    const inner = await withTenant(plain, { organizationId: ids.orgA }, () =>
      // A transaction started inside, not through a helper: it has no context of its own.
      app.$transaction((tx) => context(tx)),
    )
    expect(empty(inner.org)).toBe(true)
    const nested = await withTenant(app3, { organizationId: ids.orgA }, async (outer) => ({
      outer: await context(outer),
      inner: await withTenant(app3, { organizationId: ids.orgB }, context),
      started: await app3.$transaction((tx) => context(tx)),
    }))
    expect(nested.outer.org).toBe(ids.orgA)
    expect(nested.inner.org).toBe(ids.orgB)
    expect(empty(nested.started.org)).toBe(true)
  })
})
