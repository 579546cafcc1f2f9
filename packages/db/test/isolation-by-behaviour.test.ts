import { randomUUID } from 'node:crypto'
import { isDeepStrictEqual } from 'node:util'
import { TEST_APP_LOGIN, useIsolatedServices } from '@repo/testing'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  createDatabaseClient,
  Prisma,
  type PrismaClient,
  type TenantTransaction,
  withNoContext,
  withPresentedSecret,
  withTenant,
  withUser,
} from '../src/index.ts'
import { type CatalogTable, catalogTables, clientConfig as config } from './catalog.ts'

// Tenant isolation proven by what the application's login can do, not by what the
// policies say: for every tenant table the catalog lists, a row of organization A is
// invisible, unchangeable and uncopyable from every context that is not A's. A policy
// that names the context but lets rows through (`USING (true OR ...)`) fails here.
const services = useIsolatedServices()
let admin: PrismaClient
let app: PrismaClient

const ids = {
  orgA: randomUUID(),
  orgB: randomUUID(),
  alice: randomUUID(), // owner of A
  bob: randomUUID(), // owner of B, not a member of A
  dana: randomUUID(), // member of both
  projectA: randomUUID(),
  endpointA: randomUUID(),
  deliveryA: randomUUID(),
}
/** The secret every secret-addressed row of A holds (token, key, scope hash): A presents it. */
const SECRET_A = 'a'.repeat(64)
/** What B presents: a secret of its own, which must reveal none of A's rows. */
const SECRET_B = 'b'.repeat(64)
const FIXTURE_FILE = 'packages/db/test/isolation-by-behaviour.test.ts'

/**
 * A row of organization A in every tenant table, written as the owner (row-level security
 * does not restrict it). A new tenant table needs its entry here; until it has one, every
 * test below fails naming it. Rows that are found by a presented secret hold SECRET_A.
 */
const FIXTURE: Record<string, (db: PrismaClient) => Promise<unknown>> = {
  organizations: (db) => db.organization.create({ data: { id: ids.orgA, name: 'A' } }),
  memberships: (db) =>
    db.membership.create({ data: { organizationId: ids.orgA, userId: ids.alice, role: 'owner' } }),
  invitations: (db) =>
    db.invitation.create({
      data: {
        organizationId: ids.orgA,
        email: 'carol@c.test',
        role: 'member',
        tokenHash: SECRET_A,
        invitedById: ids.alice,
        expiresAt: new Date(Date.now() + 86_400_000),
      },
    }),
  api_keys: (db) =>
    db.apiKey.create({
      data: {
        organizationId: ids.orgA,
        name: 'A key',
        prefix: 'gw_a',
        secretHash: SECRET_A,
        scopes: ['projects:read'],
        createdById: ids.alice,
      },
    }),
  audit_logs: (db) =>
    db.auditLog.create({
      data: { organizationId: ids.orgA, actorUserId: ids.alice, action: 'member.added' },
    }),
  projects: (db) =>
    db.project.create({ data: { id: ids.projectA, organizationId: ids.orgA, name: 'A project' } }),
  tasks: (db) =>
    db.task.create({
      data: {
        organizationId: ids.orgA,
        projectId: ids.projectA,
        title: 'A task',
        assigneeId: ids.alice,
      },
    }),
  idempotency_keys: (db) =>
    db.idempotencyKey.create({
      data: {
        organizationId: ids.orgA,
        scopeHash: SECRET_A,
        requestHash: 'c'.repeat(64),
        lockedUntil: new Date(Date.now() + 60_000),
        expiresAt: new Date(Date.now() + 86_400_000),
      },
    }),
  outbox_messages: (db) =>
    db.outboxMessage.create({
      data: { organizationId: ids.orgA, queue: 'q', jobName: 'j', data: {}, options: {} },
    }),
  webhook_endpoints: (db) =>
    db.webhookEndpoint.create({
      data: {
        id: ids.endpointA,
        organizationId: ids.orgA,
        url: 'https://a.test/hook',
        events: ['project.created'],
        secret: Buffer.from('sealed secret of A'),
      },
    }),
  webhook_deliveries: (db) =>
    db.webhookDelivery.create({
      data: {
        id: ids.deliveryA,
        organizationId: ids.orgA,
        endpointId: ids.endpointA,
        eventId: 'msg_a',
        eventType: 'project.created',
        payload: { name: 'A project' },
      },
    }),
  webhook_delivery_attempts: (db) =>
    db.webhookDeliveryAttempt.create({
      data: {
        organizationId: ids.orgA,
        deliveryId: ids.deliveryA,
        attempt: 1,
        startedAt: new Date(),
        durationMs: 12,
        responseStatus: 200,
        succeeded: true,
      },
    }),
}

type Context = { name: string; run: <T>(work: (tx: TenantTransaction) => Promise<T>) => Promise<T> }

/** The contexts in which A's rows are A's to see: its organization, and its secrets. */
const OWN: Context[] = [
  {
    name: "A's organization, Alice acting",
    run: (work) => withTenant(app, { organizationId: ids.orgA, userId: ids.alice }, work),
  },
  { name: "A's presented secret", run: (work) => withPresentedSecret(app, SECRET_A, work) },
]
/** Every context the application opens that is not A's, B's first. */
const OTHERS: Context[] = [
  {
    name: "B's organization, Bob acting",
    run: (work) => withTenant(app, { organizationId: ids.orgB, userId: ids.bob }, work),
  },
  // Being a member of A must not open A's rows while B is the context's organization.
  {
    name: "B's organization, Dana (also a member of A) acting",
    run: (work) => withTenant(app, { organizationId: ids.orgB, userId: ids.dana }, work),
  },
  { name: 'Bob, no organization', run: (work) => withUser(app, ids.bob, work) },
  { name: "B's presented secret", run: (work) => withPresentedSecret(app, SECRET_B, work) },
  { name: 'no context', run: (work) => withNoContext(app, work) },
]

interface TenantTable extends CatalogTable {
  tenantColumn: 'organization_id' | 'id'
  /** Columns an INSERT may name (generated ones may not). */
  columns: string[]
  /** Whether the application's login holds each privilege at all, through its role or not. */
  grants: { select: boolean; insert: boolean; update: boolean; delete: boolean }
  /** Whether any policy lets the application's login read it (the outbox is write-only). */
  readable: boolean
}
const tables: TenantTable[] = []
/** A's rows as the owner read them after seeding, to copy and to compare with afterwards. */
const rowsOfA = new Map<string, Record<string, unknown>[]>()

const quote = (name: string) => `"${name.replaceAll('"', '""')}"`

async function ownerRows(table: TenantTable): Promise<Record<string, unknown>[]> {
  const rows = await admin.$queryRawUnsafe<{ row: Record<string, unknown> }[]>(
    `SELECT to_jsonb(t) AS row FROM ${quote(table.table)} t
     WHERE ${quote(table.tenantColumn)} = $1::uuid ORDER BY to_jsonb(t)::text`,
    ids.orgA,
  )
  return rows.map((r) => r.row)
}

beforeAll(async () => {
  admin = createDatabaseClient(config(services().database.url))
  app = createDatabaseClient(config(services().database.appUrl))
  await admin.user.createMany({
    data: [
      { id: ids.alice, email: 'alice@a.test', name: 'Alice' },
      { id: ids.bob, email: 'bob@b.test', name: 'Bob' },
      { id: ids.dana, email: 'dana@d.test', name: 'Dana' },
    ],
  })
  // B is a live tenant with its owner, and Dana belongs to both: the contexts that are not A's.
  await admin.organization.create({ data: { id: ids.orgB, name: 'B' } })
  await admin.membership.create({
    data: { organizationId: ids.orgB, userId: ids.bob, role: 'owner' },
  })
  for (const seed of Object.values(FIXTURE)) await seed(admin)
  await admin.membership.createMany({
    data: [
      { organizationId: ids.orgA, userId: ids.dana, role: 'member' },
      { organizationId: ids.orgB, userId: ids.dana, role: 'member' },
    ],
  })

  const catalog = (await catalogTables(admin)).filter(
    (t): t is CatalogTable & { tenantColumn: 'organization_id' | 'id' } => t.tenantColumn !== null,
  )
  // Privileges and policies of the login the probes run as, roles it belongs to included.
  const login = TEST_APP_LOGIN.user
  for (const table of catalog) {
    const [facts] = await admin.$queryRaw<Omit<TenantTable, keyof CatalogTable>[]>`
      SELECT
        ARRAY(SELECT a.attname::text FROM pg_attribute a
              WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
                AND a.attgenerated = '' ORDER BY a.attnum) AS columns,
        jsonb_build_object(
          'select', has_table_privilege(${login}, c.oid, 'SELECT'),
          'insert', has_table_privilege(${login}, c.oid, 'INSERT'),
          'update', has_table_privilege(${login}, c.oid, 'UPDATE'),
          'delete', has_table_privilege(${login}, c.oid, 'DELETE')) AS grants,
        EXISTS (SELECT 1 FROM pg_policy p
                WHERE p.polrelid = c.oid AND p.polpermissive AND p.polcmd IN ('*', 'r')
                  AND EXISTS (SELECT 1 FROM unnest(p.polroles) r
                              WHERE r = 0 OR pg_has_role(${login}, r, 'USAGE'))) AS readable
      FROM pg_class c WHERE c.oid = ${`public.${quote(table.table)}`}::regclass`
    if (!facts) throw new Error(`${table.table} vanished from the catalog`)
    tables.push({ ...table, ...facts })
  }
  for (const table of tables) rowsOfA.set(table.table, await ownerRows(table))
})
afterAll(async () => {
  await Promise.all([admin?.$disconnect(), app?.$disconnect()])
})

/** The tables with a fixture row; the message for each one without, so no test passes empty. */
function covered(problems: string[]): TenantTable[] {
  return tables.filter((table) => {
    if (rowsOfA.get(table.table)?.length) return true
    problems.push(
      `table ${table.table} holds tenant data but the isolation fixture writes no row of organization A to it: add one to FIXTURE in ${FIXTURE_FILE}`,
    )
    return false
  })
}

/** SQLSTATE and message of a refused statement (Prisma wraps the driver's error). */
function refusal(error: unknown): { code: string | undefined; message: string } {
  if (error instanceof Prisma.PrismaClientKnownRequestError) {
    const meta = error.meta as {
      driverAdapterError?: { cause?: { originalCode?: string; originalMessage?: string } }
    }
    const cause = meta?.driverAdapterError?.cause
    return { code: cause?.originalCode, message: cause?.originalMessage ?? error.message }
  }
  return { code: undefined, message: String(error) }
}

async function attempt<T>(
  work: () => Promise<T>,
): Promise<{ ok: true; value: T } | { ok: false; code: string | undefined; message: string }> {
  try {
    return { ok: true, value: await work() }
  } catch (error) {
    return { ok: false, ...refusal(error) }
  }
}

describe('tenant isolation, by behaviour, for every tenant table in the catalog', () => {
  it('has a row of organization A in every tenant table, which A itself can see', async () => {
    const problems: string[] = []
    expect(tables.length).toBeGreaterThan(10)
    for (const name of Object.keys(FIXTURE))
      if (!tables.some((t) => t.table === name))
        problems.push(`FIXTURE writes to ${name}, which is not a tenant table (any more)`)
    for (const table of covered(problems)) {
      // A table no policy lets the app read (the outbox) is write-only for it: nothing to see.
      if (!table.readable || !table.grants.select) continue
      let seen = 0
      for (const own of OWN)
        seen += await own.run(async (tx) => {
          const [row] = await tx.$queryRawUnsafe<{ n: number }[]>(
            `SELECT count(*)::int AS n FROM ${quote(table.table)} WHERE ${quote(table.tenantColumn)} = $1::uuid`,
            ids.orgA,
          )
          return row?.n ?? 0
        })
      // Otherwise the checks below would pass for a table that hides everything from everyone.
      if (seen === 0)
        problems.push(
          `${table.table}: A's row is invisible in A's own contexts (${OWN.map((c) => c.name).join(', ')})`,
        )
    }
    expect(problems).toEqual([])
  })

  it("shows none of A's rows in any other context", async () => {
    const problems: string[] = []
    for (const table of covered(problems))
      for (const other of OTHERS) {
        const result = await attempt(() =>
          other.run((tx) =>
            tx.$queryRawUnsafe<{ row: unknown }[]>(
              `SELECT to_jsonb(t) AS row FROM ${quote(table.table)} t WHERE ${quote(table.tenantColumn)} = $1::uuid`,
              ids.orgA,
            ),
          ),
        )
        if (result.ok && result.value.length > 0)
          problems.push(
            `${table.table}, ${other.name}: SELECT sees ${result.value.length} of A's rows`,
          )
        // Without the SELECT privilege at all, "permission denied" is as private an answer.
        else if (
          !result.ok &&
          !(
            result.code === '42501' &&
            /permission denied/.test(result.message) &&
            !table.grants.select
          )
        )
          problems.push(
            `${table.table}, ${other.name}: SELECT failed: ${result.code} ${result.message}`,
          )
      }
    expect(problems).toEqual([])
  })

  it("lets no other context move A's rows into B, or delete them", async () => {
    const problems: string[] = []
    const tenantTables = covered(problems)
    for (const table of tenantTables)
      for (const other of OTHERS) {
        const where = `WHERE ${quote(table.tenantColumn)} = $1::uuid`
        const writes = [
          {
            verb: 'UPDATE',
            granted: table.grants.update,
            sql: `UPDATE ${quote(table.table)} SET ${quote(table.tenantColumn)} = $2::uuid ${where}`,
            params: [ids.orgA, ids.orgB],
          },
          {
            verb: 'DELETE',
            granted: table.grants.delete,
            sql: `DELETE FROM ${quote(table.table)} ${where}`,
            params: [ids.orgA],
          },
        ]
        for (const write of writes) {
          const result = await attempt(() =>
            other.run((tx) => tx.$executeRawUnsafe(write.sql, ...write.params)),
          )
          const at = `${table.table}, ${other.name}: ${write.verb} of A's rows`
          if (write.granted) {
            // Granted, so row-level security alone must hide A's rows: nothing to change.
            if (!result.ok)
              problems.push(
                `${at} failed instead of matching nothing: ${result.code} ${result.message}`,
              )
            else if (result.value !== 0) problems.push(`${at} changed ${result.value} rows`)
          } else if (
            result.ok ||
            result.code !== '42501' ||
            !/permission denied/.test(result.message)
          )
            // Not granted (the append-only audit log): the only right answer is a refusal.
            problems.push(
              `${at} was not refused for want of the privilege: ${JSON.stringify(result)}`,
            )
        }
      }
    // Whatever the answers said, A's rows are as they were, as the owner sees them.
    for (const table of tenantTables) {
      const after = await ownerRows(table)
      if (!isDeepStrictEqual(after, rowsOfA.get(table.table)))
        problems.push(`${table.table}: A's rows changed: ${JSON.stringify(after)}`)
    }
    expect(problems).toEqual([])
  })

  it("refuses a copy of A's row inserted from any other context, before any unique index", async () => {
    const problems: string[] = []
    for (const table of covered(problems)) {
      const columns = table.columns.map(quote).join(', ')
      // The row as it is, organization A and all, rebuilt from JSON: no per-table code.
      const sql = `INSERT INTO ${quote(table.table)} (${columns})
        SELECT ${columns} FROM json_populate_record(NULL::${quote(table.table)}, $1::json)`
      const [row] = rowsOfA.get(table.table) ?? []
      for (const other of OTHERS) {
        const result = await attempt(() =>
          other.run((tx) => tx.$executeRawUnsafe(sql, JSON.stringify(row))),
        )
        // With the grant, row-level security's WITH CHECK must refuse it: it runs before
        // unique indexes, so the copy fails as a foreign row, not as a duplicate (23505).
        // Without the grant, the refusal is the privilege's.
        const expected = table.grants.insert
          ? /new row violates row-level security policy/
          : /permission denied/
        if (result.ok || result.code !== '42501' || !expected.test(result.message))
          problems.push(
            `${table.table}, ${other.name}: INSERT of a copy of A's row ${result.ok ? 'was accepted' : `failed with ${result.code} ${result.message}`}, not refused by ${table.grants.insert ? 'row-level security' : 'the missing privilege'} (42501)`,
          )
      }
    }
    expect(problems).toEqual([])
  })
})
