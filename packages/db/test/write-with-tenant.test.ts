import { randomUUID } from 'node:crypto'
import { PrismaPg } from '@prisma/adapter-pg'
import { useIsolatedServices } from '@repo/testing'
import pg from 'pg'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { PrismaClient as GeneratedClient } from '../src/generated/prisma/client.ts'
import {
  ClaimLostError,
  createDatabaseClient,
  databaseErrorState,
  Prisma,
  type PrismaClient,
  readWithTenant,
  runHoldingClaim,
  withTenant,
  writeWithTenant,
} from '../src/index.ts'
import {
  claimFor,
  clientConfig,
  namedStatementsOn,
  oneConnectionClient,
  seedTwoTenants,
} from './catalog.ts'
import { startWireRecorder, type WireRecorder } from './wire-recorder.ts'

// A write of one organization in ONE round trip (writeWithTenant, docs/decisions/045):
// the tenant settings, the statements and the claim's mark in one pipeline and one Sync,
// one implicit transaction. Counted on the wire through a proxy that reads what the
// driver really sends; isolation proven on a pool of ONE connection.
const services = useIsolatedServices()
let recorder: WireRecorder
let admin: PrismaClient
/** The application's login through createDatabaseClient, on a pool of one connection. */
let app: PrismaClient
let statementsSeen: string[] = []
/** The same with an `onQuery` listener, as the API's tests count statements. */
let counted: PrismaClient
/** Three connections: a transaction and a write beside it. */
let app3: PrismaClient
/** A client not made by createDatabaseClient. */
let plain: PrismaClient

const ids = { orgA: randomUUID(), orgB: randomUUID(), alice: randomUUID(), bob: randomUUID() }
const empty = (value: string | null | undefined) =>
  value === null || value === '' || value === undefined

beforeAll(async () => {
  const { database } = services()
  recorder = await startWireRecorder(database.appUrl)
  const appUrl = recorder.url(database.appUrl)
  admin = createDatabaseClient(clientConfig(database.url))
  app = createDatabaseClient({ ...clientConfig(appUrl), DATABASE_POOL_MAX: 1 })
  counted = createDatabaseClient(clientConfig(appUrl), (sql) => statementsSeen.push(sql))
  app3 = createDatabaseClient({ ...clientConfig(appUrl), DATABASE_POOL_MAX: 3 })
  plain = new GeneratedClient({ adapter: new PrismaPg({ connectionString: appUrl, max: 1 }) })
  await seedTwoTenants(admin, ids)
  await Promise.all([app, counted, app3, plain].map((db) => db.$queryRaw`SELECT 1`))
})
afterAll(async () => {
  await Promise.all([admin, app, counted, app3, plain].map((db) => db?.$disconnect()))
  await recorder?.close()
})
beforeEach(() => {
  recorder.clear()
  statementsSeen = []
})

/** A project insert of organization `org`, answering its row and the settings it ran under. */
const insertProject = (org: string, name: string) => Prisma.sql`
  INSERT INTO projects (id, organization_id, name, updated_at)
  VALUES (${randomUUID()}::uuid, ${org}::uuid, ${name}, now())
  RETURNING id, organization_id, name, version, created_at,
    current_setting('app.organization_id', true) AS org, current_setting('app.user_id', true) AS usr`
const projectsNamed = (name: string) => admin.project.findMany({ where: { name } })
/** The settings on the pool's one connection, outside any write. */
async function leftOnConnection(db: PrismaClient) {
  const [row] = await db.$queryRaw<
    { org: string | null; usr: string | null; ro: string; pid: number }[]
  >`
    SELECT current_setting('app.organization_id', true) AS org,
      current_setting('app.user_id', true) AS usr, current_setting('transaction_read_only') AS ro,
      pg_backend_pid() AS pid`
  return row
}

describe('a write in one round trip (writeWithTenant)', () => {
  it('sends the settings and every statement in one round trip, no BEGIN or COMMIT, and commits them at its Sync', async () => {
    const [inserted, seen] = await writeWithTenant(
      app,
      { organizationId: ids.orgA, userId: ids.alice },
      [
        insertProject(ids.orgA, 'one trip'),
        Prisma.sql`SELECT count(*)::int AS n FROM projects WHERE name = ${'one trip'}`,
      ],
    )
    expect(recorder.roundTrips).toHaveLength(1)
    expect(recorder.roundTrips[0]?.protocol).toBe('extended')
    expect(recorder.roundTrips[0]?.sql.split('; ')).toEqual([
      "SELECT set_config('app.organization_id', $1, true), set_config('app.user_id', $2, true), set_config('app.secret_hash', $3, true)",
      expect.stringContaining('INSERT INTO projects'),
      expect.stringContaining('SELECT count(*)'),
    ])
    // Each statement answers its rows, typed as node-postgres types them; the second
    // statement sees the first's row: one transaction.
    expect(inserted).toEqual([
      {
        id: expect.any(String),
        organization_id: ids.orgA,
        name: 'one trip',
        version: 1,
        created_at: expect.any(Date),
        org: ids.orgA,
        usr: ids.alice,
      },
    ])
    expect(seen).toEqual([{ n: 1 }])
    expect(await projectsNamed('one trip')).toHaveLength(1)
  })

  it('commits all of its statements or none: an error rolls back those before it and skips those after', async () => {
    const connection = (await leftOnConnection(app))?.pid
    recorder.clear()
    const write = writeWithTenant(app, { organizationId: ids.orgA }, [
      insertProject(ids.orgA, 'before the error'),
      Prisma.sql`SELECT 1 / ${0}::int`,
      insertProject(ids.orgA, 'after the error'),
    ])
    await expect(write).rejects.toThrow(/division by zero/)
    await expect(write.catch(databaseErrorState)).resolves.toBe('22012')
    expect(recorder.roundTrips).toHaveLength(1)
    expect(await projectsNamed('before the error')).toEqual([])
    expect(await projectsNamed('after the error')).toEqual([])
    // And the connection (the pool's only one) comes back clean and writing, the same
    // connection: a refusal by Postgres does not cost a new one.
    const left = await leftOnConnection(app)
    expect(left?.pid).toBe(connection)
    expect(empty(left?.org)).toBe(true)
    expect(left?.ro).toBe('off')
    await writeWithTenant(app, { organizationId: ids.orgA }, [
      insertProject(ids.orgA, 'after a failed write'),
    ])
    expect(await projectsNamed('after a failed write')).toHaveLength(1)
  })

  it("keeps row-level security as the second wall: another tenant's rows are out of reach", async () => {
    const [other] = await admin.project.createManyAndReturn({
      data: [{ organizationId: ids.orgB, name: 'B keeps this' }],
    })
    // Writing a row into another organization is refused by the policy, and nothing commits.
    const write = writeWithTenant(app, { organizationId: ids.orgA }, [
      insertProject(ids.orgA, 'beside a forged insert'),
      insertProject(ids.orgB, 'forged into B'),
    ])
    await expect(write).rejects.toThrow(/row-level security/)
    expect(await projectsNamed('forged into B')).toEqual([])
    expect(await projectsNamed('beside a forged insert')).toEqual([])
    // Another organization's rows cannot be seen, changed or deleted by their id.
    const [updated, deleted, read] = await writeWithTenant(app, { organizationId: ids.orgA }, [
      Prisma.sql`UPDATE projects SET name = 'taken' WHERE id = ${other?.id}::uuid RETURNING id`,
      Prisma.sql`DELETE FROM projects WHERE id = ${other?.id}::uuid RETURNING id`,
      Prisma.sql`SELECT id FROM projects WHERE id = ${other?.id}::uuid`,
    ])
    expect([updated, deleted, read]).toEqual([[], [], []])
    expect(await projectsNamed('B keeps this')).toHaveLength(1)
  })

  it('interleaves many writes of two tenants on one connection, each waiting for it: each runs under its own settings, none is left behind', async () => {
    const orgOf = (i: number) => (i % 2 === 0 ? ids.orgA : ids.orgB)
    const userOf = (i: number) => (i % 2 === 0 ? ids.alice : ids.bob)
    const runs = await Promise.all(
      Array.from({ length: 40 }, async (_, i) => {
        const [rows] = await writeWithTenant(app, { organizationId: orgOf(i), userId: userOf(i) }, [
          insertProject(orgOf(i), `interleaved ${i}`),
        ])
        const row = rows?.[0]
        return { i, row }
      }),
    )
    for (const { i, row } of runs)
      expect(row, String(i)).toMatchObject({
        organization_id: orgOf(i),
        org: orgOf(i),
        usr: userOf(i),
      })
    expect(recorder.roundTrips).toHaveLength(40)
    const stored = await admin.project.findMany({ where: { name: { startsWith: 'interleaved ' } } })
    expect(stored).toHaveLength(40)
    for (const project of stored)
      expect(project.organizationId).toBe(orgOf(Number(project.name.split(' ')[1])))
    expect(empty((await leftOnConnection(app))?.org)).toBe(true)
  })

  it('passes hostile values as parameters: stored as they are, and they change no statement', async () => {
    const hostile = `x'); DELETE FROM projects; SELECT set_config('app.organization_id', '${ids.orgB}', true); --`
    const [rows] = await writeWithTenant(app, { organizationId: ids.orgA, userId: hostile }, [
      insertProject(ids.orgA, hostile.slice(0, 100)),
    ])
    expect(rows?.[0]).toMatchObject({ name: hostile.slice(0, 100), org: ids.orgA, usr: hostile })
    expect(recorder.roundTrips[0]?.sql).not.toContain('DELETE')
    expect(await projectsNamed(hostile.slice(0, 100))).toHaveLength(1)
    // NUL cannot be a parameter's text: Postgres refuses it, nothing commits, nothing is left.
    const write = writeWithTenant(app, { organizationId: ids.orgA }, [
      insertProject(ids.orgA, 'a\0b'),
    ])
    await expect(write.catch(databaseErrorState)).resolves.toBe('22021')
    expect(empty((await leftOnConnection(app))?.org)).toBe(true)
  })

  it('refuses what is not a read or write of rows, and a value it cannot send, before sending anything', async () => {
    const tenant = { organizationId: ids.orgA }
    for (const text of [
      'BEGIN',
      'COMMIT',
      'ROLLBACK',
      "SET app.organization_id = 'x'",
      'SAVEPOINT s',
      'CALL p()',
    ])
      await expect(writeWithTenant(app, tenant, [Prisma.raw(text)])).rejects.toThrow(
        /SELECT, WITH, INSERT, UPDATE or DELETE/,
      )
    await expect(writeWithTenant(app, tenant, [])).rejects.toThrow(/at least one statement/)
    const circular: Record<string, unknown> = {}
    circular.self = circular
    await expect(
      writeWithTenant(app, tenant, [Prisma.sql`SELECT ${circular}::jsonb`]),
    ).rejects.toThrow()
    expect(recorder.roundTrips).toEqual([])
    // Two commands in one text are refused by Postgres (a prepared statement is one
    // command), so a COMMIT cannot ride behind a statement; nothing commits.
    const smuggled = writeWithTenant(app, tenant, [
      Prisma.sql`INSERT INTO projects (id, organization_id, name, updated_at) VALUES (${randomUUID()}::uuid, ${ids.orgA}::uuid, 'smuggled', now()); COMMIT`,
    ])
    await expect(smuggled.catch(databaseErrorState)).resolves.toBe('42601')
    expect(await projectsNamed('smuggled')).toEqual([])
  })

  it('is refused inside a transaction, where it would commit apart from it', async () => {
    await expect(
      withTenant(app3, { organizationId: ids.orgA }, async (tx) => {
        await tx.project.create({ data: { organizationId: ids.orgA, name: 'in the transaction' } })
        await writeWithTenant(app3, { organizationId: ids.orgA }, [
          insertProject(ids.orgA, 'beside the transaction'),
        ])
      }),
    ).rejects.toThrow(/commit apart from it/)
    expect(await projectsNamed('beside the transaction')).toEqual([])
    expect(await projectsNamed('in the transaction')).toEqual([])
    // After it, in the same async context: allowed.
    await withTenant(app3, { organizationId: ids.orgA }, (tx) => tx.project.count())
    await writeWithTenant(app3, { organizationId: ids.orgA }, [
      insertProject(ids.orgA, 'after the transaction'),
    ])
    expect(await projectsNamed('after the transaction')).toHaveLength(1)
  })

  it('is refused inside readWithTenant, and on a client not made by createDatabaseClient', async () => {
    await expect(
      readWithTenant(app, { organizationId: ids.orgA }, () =>
        writeWithTenant(app, { organizationId: ids.orgA }, [
          insertProject(ids.orgA, 'inside a read'),
        ]),
      ),
    ).rejects.toThrow(/readWithTenant carries one read/)
    await expect(
      writeWithTenant(plain, { organizationId: ids.orgA }, [insertProject(ids.orgA, 'plain')]),
    ).rejects.toThrow(/createDatabaseClient/)
    expect(await projectsNamed('inside a read')).toEqual([])
    expect(await projectsNamed('plain')).toEqual([])
  })

  it('survives its connection ending mid-pipeline: the write fails, nothing commits, the next write gets a new connection', async () => {
    const before = (await leftOnConnection(app))?.pid
    // The backend ends itself (FATAL 57P01, then the socket closes) after the insert ran,
    // with a second write already queued for the pool's only connection.
    const cut = writeWithTenant(app, { organizationId: ids.orgA }, [
      insertProject(ids.orgA, 'cut off'),
      Prisma.sql`SELECT pg_terminate_backend(pg_backend_pid())`,
    ])
    const queued = writeWithTenant(app, { organizationId: ids.orgA }, [
      insertProject(ids.orgA, 'queued behind the cut'),
    ])
    await expect(cut).rejects.toThrow(/terminat/)
    await queued
    expect(await projectsNamed('cut off')).toEqual([])
    expect(await projectsNamed('queued behind the cut')).toHaveLength(1)
    const after = await leftOnConnection(app)
    expect(after?.pid).not.toBe(before)
    expect(empty(after?.org)).toBe(true)
  })

  it("reports its statements to the client's onQuery listener", async () => {
    await writeWithTenant(counted, { organizationId: ids.orgA }, [
      insertProject(ids.orgA, 'listened'),
    ])
    expect(statementsSeen).toEqual([expect.stringContaining('INSERT INTO projects')])
  })
})

describe('a write in one round trip, its statements prepared by name (ADR 049)', () => {
  /** An insert whose text no other test sends: its name is new to every connection. */
  const freshInsert = (org: string, name: string, tag = randomUUID()) => Prisma.sql`
    INSERT INTO projects (id, organization_id, name, updated_at) /* ${Prisma.raw(tag)} */
    VALUES (${randomUUID()}::uuid, ${org}::uuid, ${name}, now())
    RETURNING id, name, current_setting('app.organization_id', true) AS org`
  /** The application's login through the recorder, on a pool of one connection. */
  const oneConnection = (config: { DATABASE_NAMED_STATEMENTS?: boolean } = {}) =>
    oneConnectionClient(recorder.url(services().database.appUrl), config)
  const preparedOnConnection = namedStatementsOn

  it('parses each statement once per connection, then only binds it by name, answering the same', async () => {
    const tag = randomUUID()
    const answers = []
    for (const name of ['named first', 'named second', 'named third'])
      answers.push(
        await writeWithTenant(app, { organizationId: ids.orgA }, [
          freshInsert(ids.orgA, name, tag),
        ]),
      )
    expect(answers.map(([rows]) => rows?.[0])).toEqual(
      ['named first', 'named second', 'named third'].map((name) => ({
        id: expect.any(String),
        name,
        org: ids.orgA,
      })),
    )
    // One round trip each; the insert is parsed by the first only (the settings statement
    // may have been parsed by an earlier test on this connection), and every round trip
    // still runs the settings and the insert.
    expect(recorder.roundTrips).toHaveLength(3)
    expect(recorder.parses[0]).toBeGreaterThanOrEqual(1)
    expect(recorder.parses.slice(1)).toEqual([0, 0])
    for (const trip of recorder.roundTrips)
      expect(trip.sql.split('; ')).toEqual([
        expect.stringMatching(/^SELECT set_config\('app.organization_id'/),
        expect.stringContaining(tag),
      ])
    // Postgres holds it under a name made from its text, the same in every process.
    const held = await preparedOnConnection(app)
    expect(held.filter((s) => s.statement.includes(tag))).toEqual([
      { name: expect.stringMatching(/^groundwork_[0-9a-f]{40}$/), statement: expect.any(String) },
    ])
    expect(await admin.project.count({ where: { name: { startsWith: 'named ' } } })).toBe(3)
  })

  it('parses again a statement whose Parse a failed pipeline skipped, in one round trip', async () => {
    const tag = randomUUID()
    // The division fails first, so Postgres skips everything after it up to the Sync,
    // the insert's Parse among them: its name must not be taken as prepared.
    const divide = (by: number) => Prisma.sql`SELECT 1 / ${by}::int AS one /* ${Prisma.raw(tag)} */`
    await expect(
      writeWithTenant(app, { organizationId: ids.orgA }, [
        divide(0),
        freshInsert(ids.orgA, 'skipped parse', tag),
      ]),
    ).rejects.toThrow(/division by zero/)
    recorder.clear()
    const [one, inserted] = await writeWithTenant(app, { organizationId: ids.orgA }, [
      divide(1),
      freshInsert(ids.orgA, 'parsed again', tag),
    ])
    const row = inserted?.[0]
    expect(one).toEqual([{ one: 1 }])
    expect(row).toMatchObject({ name: 'parsed again', org: ids.orgA })
    // Closed and parsed again with its Bind, not found missing and retried.
    expect(recorder.roundTrips).toHaveLength(1)
    expect(recorder.parses[0]).toBeGreaterThanOrEqual(2)
    expect(await projectsNamed('skipped parse')).toEqual([])
    expect(await projectsNamed('parsed again')).toHaveLength(1)
  })

  it('survives its statements vanishing from the connection (DEALLOCATE, a pooler): sent once more, committed once', async () => {
    // A client of its own: every name its connection held is gone after this.
    const db = oneConnection()
    try {
      const tag = randomUUID()
      await writeWithTenant(db, { organizationId: ids.orgA }, [
        freshInsert(ids.orgA, 'before deallocate', tag),
      ])
      // The pool's one connection: what a pooler handing out another server connection, or
      // an operator's DEALLOCATE, leaves a client that believes its names are there.
      await db.$executeRawUnsafe('DEALLOCATE ALL')
      expect(await preparedOnConnection(db)).toEqual([])
      recorder.clear()
      const [inserted] = await writeWithTenant(db, { organizationId: ids.orgA }, [
        freshInsert(ids.orgA, 'after deallocate', tag),
      ])
      const row = inserted?.[0]
      expect(row).toMatchObject({ name: 'after deallocate', org: ids.orgA })
      // The first attempt failed at its first Bind (26000) and rolled back; the second
      // parsed everything again.
      expect(recorder.roundTrips).toHaveLength(2)
      expect(recorder.parses[0]).toBe(0)
      expect(recorder.parses[1]).toBeGreaterThanOrEqual(2)
      expect(await projectsNamed('after deallocate')).toHaveLength(1)
      // And the names are prepared again: the next write only binds.
      recorder.clear()
      await writeWithTenant(db, { organizationId: ids.orgA }, [
        freshInsert(ids.orgA, 'after deallocate, again', tag),
      ])
      expect(recorder.parses).toEqual([0])
    } finally {
      await db.$disconnect()
    }
  })

  it("survives a migration that changes a prepared statement's columns: sent once more, answering the new ones", async () => {
    const tag = randomUUID()
    const insertAll = (name: string) => Prisma.sql`
      INSERT INTO projects (id, organization_id, name, updated_at) /* ${Prisma.raw(tag)} */
      VALUES (${randomUUID()}::uuid, ${ids.orgA}::uuid, ${name}, now()) RETURNING *`
    await writeWithTenant(app, { organizationId: ids.orgA }, [insertAll('before the migration')])
    await admin.$executeRawUnsafe('ALTER TABLE projects ADD COLUMN added_by_migration integer')
    try {
      recorder.clear()
      // Postgres refuses the prepared `*` (0A000, "cached plan must not change result type");
      // the whole pipeline rolled back, so it is parsed and sent again.
      const [inserted] = await writeWithTenant(app, { organizationId: ids.orgA }, [
        insertAll('after the migration'),
      ])
      const row = inserted?.[0]
      expect(row).toMatchObject({ name: 'after the migration', added_by_migration: null })
      expect(recorder.roundTrips).toHaveLength(2)
      expect(await projectsNamed('after the migration')).toHaveLength(1)
    } finally {
      await admin.$executeRawUnsafe('ALTER TABLE projects DROP COLUMN added_by_migration')
    }
  })

  it('retries nothing else: a refused write fails once, its one round trip', async () => {
    const tag = randomUUID()
    const write = writeWithTenant(app, { organizationId: ids.orgA }, [
      freshInsert(ids.orgA, 'refused', tag),
      Prisma.sql`SELECT 1 / ${0}::int /* ${Prisma.raw(tag)} */`,
    ])
    await expect(write.catch(databaseErrorState)).resolves.toBe('22012')
    expect(recorder.roundTrips).toHaveLength(1)
    expect(await projectsNamed('refused')).toEqual([])
  })

  it('sends them unnamed, parsed every time, with DATABASE_NAMED_STATEMENTS=false', async () => {
    const unnamed = oneConnection({ DATABASE_NAMED_STATEMENTS: false })
    try {
      const tag = randomUUID()
      await unnamed.$queryRaw`SELECT 1`
      recorder.clear()
      for (const name of ['unnamed first', 'unnamed second'])
        await writeWithTenant(unnamed, { organizationId: ids.orgA }, [
          freshInsert(ids.orgA, name, tag),
        ])
      expect(recorder.parses).toEqual([2, 2])
      expect(await preparedOnConnection(unnamed)).toEqual([])
      expect(await admin.project.count({ where: { name: { startsWith: 'unnamed ' } } })).toBe(2)
    } finally {
      await unnamed.$disconnect()
    }
  })
})

describe('a write in one round trip holding an Idempotency-Key claim', () => {
  it('marks the claim in the same pipeline, atomically with the change', async () => {
    const claim = await claimFor(admin, ids.orgA)
    await runHoldingClaim(claim, () =>
      writeWithTenant(app, { organizationId: ids.orgA }, [insertProject(ids.orgA, 'marked')]),
    )
    expect(recorder.roundTrips).toHaveLength(1)
    expect(recorder.roundTrips.at(-1)?.sql).toMatch(
      /; SELECT app_require_idempotency_effect\(\$1::bpchar, \$2::timestamptz\)$/,
    )
    expect((await keyOf(claim)).effectCommittedAt).toBeInstanceOf(Date)
    expect(await projectsNamed('marked')).toHaveLength(1)
  })

  it('rolls the change back when a retry took the claim over: ClaimLostError, nothing committed', async () => {
    const claim = await claimFor(admin, ids.orgA)
    // A retry took the key over: the row's lock is no longer this request's.
    await admin.idempotencyKey.update({
      where: { scopeHash: claim.scopeHash },
      data: { lockedUntil: new Date(Date.now() + 300_000) },
    })
    await expect(
      runHoldingClaim(claim, () =>
        writeWithTenant(app, { organizationId: ids.orgA }, [insertProject(ids.orgA, 'taken over')]),
      ),
    ).rejects.toThrow(ClaimLostError)
    expect(await projectsNamed('taken over')).toEqual([])
    expect((await keyOf(claim)).effectCommittedAt).toBeNull()
  })

  it('leaves the claim unmarked when the write fails', async () => {
    const claim = await claimFor(admin, ids.orgA)
    await expect(
      runHoldingClaim(claim, () =>
        writeWithTenant(app, { organizationId: ids.orgA }, [
          insertProject(ids.orgA, 'failed with a claim'),
          Prisma.sql`SELECT 1 / ${0}::int`,
        ]),
      ),
    ).rejects.toBeInstanceOf(pg.DatabaseError)
    expect((await keyOf(claim)).effectCommittedAt).toBeNull()
    expect(await projectsNamed('failed with a claim')).toEqual([])
  })
})

const keyOf = (claim: { scopeHash: string }) =>
  admin.idempotencyKey.findUniqueOrThrow({ where: { scopeHash: claim.scopeHash } })
