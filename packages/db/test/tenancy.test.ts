import { randomUUID } from 'node:crypto'
import { TEST_APP_LOGIN, useIsolatedServices } from '@repo/testing'
import pg from 'pg'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  createDatabaseClient,
  type PrismaClient,
  type TenantTransaction,
  withNoContext,
  withPresentedSecret,
  withTenant,
  withUser,
} from '../src/index.ts'
import { catalogTables, clientConfig as config, GLOBAL_TABLES, seedTwoTenants } from './catalog.ts'

// Row-level security is the second wall: even code that forgets the tenant filter, even
// raw SQL through the application's login, sees only the current organization's rows.
const services = useIsolatedServices()
let admin: PrismaClient
let app: PrismaClient
const ids = {
  orgA: randomUUID(),
  orgB: randomUUID(),
  alice: randomUUID(), // member of A
  bob: randomUUID(), // member of B
  invitationB: randomUUID(),
}
const tokenHashB = 'b'.repeat(64)

beforeAll(async () => {
  admin = createDatabaseClient(config(services().database.url))
  app = createDatabaseClient(config(services().database.appUrl))
  // Seeded as the owner (superuser), which row-level security does not restrict.
  await seedTwoTenants(admin, ids)
  await admin.invitation.create({
    data: {
      id: ids.invitationB,
      organizationId: ids.orgB,
      email: 'carol@c.test',
      role: 'member',
      tokenHash: tokenHashB,
      invitedById: ids.bob,
      expiresAt: new Date(Date.now() + 86_400_000),
    },
  })
})
afterAll(async () => {
  await Promise.all([admin?.$disconnect(), app?.$disconnect()])
})

async function rawAsApp<T extends pg.QueryResultRow>(statements: string[]): Promise<T[]> {
  const client = new pg.Client({ connectionString: services().database.appUrl })
  await client.connect()
  try {
    let rows: T[] = []
    for (const sql of statements) rows = (await client.query<T>(sql)).rows
    return rows
  } finally {
    await client.end()
  }
}

describe('the application login', () => {
  it('is not a superuser, cannot bypass RLS and owns no table', async () => {
    const [role] = await rawAsApp<{ rolsuper: boolean; rolbypassrls: boolean }>([
      'SELECT rolsuper, rolbypassrls FROM pg_roles WHERE rolname = current_user',
    ])
    expect(role).toEqual({ rolsuper: false, rolbypassrls: false })
    const owned = await rawAsApp([
      "SELECT tablename FROM pg_tables WHERE schemaname = 'public' AND tableowner = current_user",
    ])
    expect(owned).toEqual([])
    expect(TEST_APP_LOGIN.user).not.toBe('postgres')
  })

  it('cannot create temporary objects (which could shadow tables in definer functions)', async () => {
    await expect(rawAsApp(['CREATE TEMP TABLE memberships (role text)'])).rejects.toThrow(
      /permission denied/,
    )
  })

  it('cannot make a definer function read a shadow table, even where temp tables are allowed', async () => {
    const db = services().database
    await admin.$executeRawUnsafe(
      `GRANT TEMPORARY ON DATABASE "${db.name}" TO ${TEST_APP_LOGIN.user}`,
    )
    try {
      const [row] = await rawAsApp<{ role: string | null }>([
        "CREATE TEMP TABLE memberships AS SELECT 'owner'::membership_role AS role, organization_id, user_id FROM (VALUES (NULL::uuid, NULL::uuid)) v(organization_id, user_id)",
        `INSERT INTO memberships VALUES ('owner', '${ids.orgB}', '${ids.alice}')`,
        `SELECT role FROM app_membership_access('${ids.orgB}', '${ids.alice}')`,
      ])
      expect(row).toBeUndefined() // Alice is not a member of B, whatever pg_temp says
    } finally {
      await admin.$executeRawUnsafe(
        `REVOKE TEMPORARY ON DATABASE "${db.name}" FROM ${TEST_APP_LOGIN.user}`,
      )
    }
  })

  it('reaches across tenants only through definer functions that pin their search path', async () => {
    const functions = await admin.$queryRaw<{ name: string; config: string[] | null }[]>`
      SELECT p.proname AS name, p.proconfig AS config
      FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
      WHERE n.nspname = 'public' AND p.prosecdef ORDER BY 1`
    expect(functions.map((f) => f.name)).toEqual([
      'app_membership_access',
      'app_membership_role',
      'audit_logs_prune',
      'ops_resource_organization',
      'outbox_claim',
      'outbox_mark_published',
      'outbox_release',
      'outbox_stats',
      'outbox_sweep',
      'purge_expired_idempotency_keys',
      'webhook_deliveries_sweep',
    ])
    for (const f of functions)
      expect(f.config, f.name).toEqual(['search_path=pg_catalog, public, pg_temp'])
  })

  it('cannot touch the migration history', async () => {
    await expect(rawAsApp(['SELECT * FROM _prisma_migrations'])).rejects.toThrow(
      /permission denied/,
    )
  })
})

describe('every table', () => {
  it('is tenant-owned with row-level security that reads the tenant, or a reviewed global one', async () => {
    const tables = await catalogTables(admin)
    const policies = await admin.$queryRaw<
      { table: string; name: string; roles: string[]; qual: string | null; check: string | null }[]
    >`
      SELECT tablename::text AS table, policyname::text AS name, roles::text[] AS roles,
        qual, with_check AS check
      FROM pg_policies WHERE schemaname = 'public'`
    const unknown = tables.filter((t) => !t.tenantColumn && !(t.table in GLOBAL_TABLES))
    expect(
      unknown.map((t) => t.table),
      'tables neither tenant-owned nor listed as global',
    ).toEqual([])
    const tenantTables = tables.filter((t) => t.tenantColumn)
    expect(tenantTables.length).toBeGreaterThan(10)
    for (const table of tenantTables) {
      expect(table, table.table).toMatchObject({ enabled: true, forced: true })
      // What the application's login may see or write: each policy that applies to it
      // reads a setting of the request's context, never lets everything through.
      const applying = policies.filter(
        (p) =>
          p.table === table.table &&
          p.roles.some((role) => role === 'public' || role === 'groundwork_app'),
      )
      expect(applying.length, `${table.table} has no policy for the app`).toBeGreaterThan(0)
      for (const policy of applying)
        for (const expression of [policy.qual, policy.check].filter((e) => e !== null))
          expect(expression, `${table.table}.${policy.name}`).toMatch(
            /app_(current|presented)_\w+\(\)|current_setting\('app\./,
          )
    }
    // The list holds only tables that exist and hold no organization's data.
    for (const name of Object.keys(GLOBAL_TABLES))
      expect(tables.find((t) => t.table === name)?.tenantColumn, name).toBeNull()
  })
})

describe('row-level security', () => {
  it('shows nothing tenant-owned when no tenant is set', async () => {
    expect(await app.membership.findMany()).toEqual([])
    expect(await app.organization.findMany()).toEqual([])
    expect(await rawAsApp(['SELECT * FROM memberships'])).toEqual([])
    expect(await rawAsApp(['SELECT * FROM invitations'])).toEqual([])
  })

  it('hides other tenants from a query that forgets the filter', async () => {
    const memberships = await withTenant(app, { organizationId: ids.orgA }, (tx) =>
      tx.membership.findMany(),
    )
    expect(memberships.map((m) => m.organizationId)).toEqual([ids.orgA])
    const orgs = await withTenant(app, { organizationId: ids.orgA }, (tx) =>
      tx.organization.findMany(),
    )
    expect(orgs.map((o) => o.id)).toEqual([ids.orgA])
  })

  it('hides other tenants when the acting user belongs to them too', async () => {
    // Bob joins A as well: in A's context, with Bob acting, B must stay invisible.
    await admin.membership.create({
      data: { organizationId: ids.orgA, userId: ids.bob, role: 'member' },
    })
    try {
      const seen = await withTenant(
        app,
        { organizationId: ids.orgA, userId: ids.bob },
        async (tx) => ({
          orgs: await tx.organization.findMany(),
          memberships: await tx.membership.findMany(),
        }),
      )
      expect(seen.orgs.map((o) => o.id)).toEqual([ids.orgA])
      expect(new Set(seen.memberships.map((m) => m.organizationId))).toEqual(new Set([ids.orgA]))
    } finally {
      await admin.membership.deleteMany({ where: { organizationId: ids.orgA, userId: ids.bob } })
    }
  })

  it('hides other tenants from raw SQL through the application login', async () => {
    const rows = await rawAsApp<{ organization_id: string }>([
      'BEGIN',
      `SELECT set_config('app.organization_id', '${ids.orgA}', true)`,
      'SELECT organization_id FROM memberships',
    ])
    expect(rows).toEqual([{ organization_id: ids.orgA }])
    const direct = await rawAsApp([
      'BEGIN',
      `SELECT set_config('app.organization_id', '${ids.orgA}', true)`,
      `SELECT * FROM invitations WHERE organization_id = '${ids.orgB}'`,
    ])
    expect(direct).toEqual([])
  })

  it('refuses to write another tenant’s rows', async () => {
    await expect(
      withTenant(app, { organizationId: ids.orgA }, (tx) =>
        tx.membership.create({
          data: { organizationId: ids.orgB, userId: ids.alice, role: 'admin' },
        }),
      ),
    ).rejects.toThrow(/row-level security/)
    const updated = await withTenant(app, { organizationId: ids.orgA }, (tx) =>
      tx.membership.updateMany({ where: { organizationId: ids.orgB }, data: { role: 'member' } }),
    )
    expect(updated.count).toBe(0)
    const deleted = await withTenant(app, { organizationId: ids.orgA }, (tx) =>
      tx.organization.deleteMany({ where: { id: ids.orgB } }),
    )
    expect(deleted.count).toBe(0)
    expect(
      await admin.membership.count({ where: { organizationId: ids.orgB, role: 'owner' } }),
    ).toBe(1)
  })

  it('keeps the setting inside its transaction: the pooled connection is clean afterwards', async () => {
    await withTenant(app, { organizationId: ids.orgA }, (tx) => tx.membership.findMany())
    // Same pool, next unit of work without a tenant: nothing.
    for (let i = 0; i < 5; i++) expect(await app.membership.findMany()).toEqual([])
  })

  it('shows a user their own memberships and organizations, and nothing of others', async () => {
    const { memberships, orgs } = await withUser(app, ids.alice, async (tx) => ({
      memberships: await tx.membership.findMany(),
      orgs: await tx.organization.findMany(),
    }))
    expect(memberships.map((m) => m.userId)).toEqual([ids.alice])
    expect(orgs.map((o) => o.id)).toEqual([ids.orgA])
  })

  it('shows nothing tenant-owned without a context, and accepts only rows of no organization', async () => {
    const seen = await withNoContext(app, async (tx) => ({
      memberships: await tx.membership.findMany(),
      organizations: await tx.organization.findMany(),
      audit: await tx.auditLog.findMany(),
    }))
    expect(seen).toEqual({ memberships: [], organizations: [], audit: [] })
    const message = { queue: 'test', jobName: 'test', data: {}, options: {} }
    await withNoContext(app, (tx) => tx.outboxMessage.createMany({ data: message }))
    await expect(
      withNoContext(app, (tx) =>
        tx.outboxMessage.createMany({ data: { ...message, organizationId: ids.orgA } }),
      ),
    ).rejects.toThrow(/row-level security/)
  })

  it('lets only a transaction, never the client, into a function that writes (compile time)', () => {
    const writesAudit = (tx: TenantTransaction<'auditLog'>) => tx.auditLog
    // The client is refused: its writes would not mark the request's Idempotency-Key claim.
    // @ts-expect-error a transaction of withTenant, withUser or withNoContext, not the client
    const refused = () => writesAudit(app)
    const accepted = () => withNoContext(app, async (tx) => writesAudit(tx))
    expect([refused, accepted]).toHaveLength(2) // checked by tsc (`pnpm typecheck`), not run
  })

  it('reveals exactly the row a presented secret belongs to', async () => {
    expect(
      await withPresentedSecret(app, tokenHashB, (tx) => tx.invitation.findMany()),
    ).toMatchObject([{ id: ids.invitationB }])
    expect(
      await withPresentedSecret(app, 'c'.repeat(64), (tx) => tx.invitation.findMany()),
    ).toEqual([])
  })
})

describe('database constraints', () => {
  it('keeps emails lower-case, so uniqueness is case-insensitive', async () => {
    await expect(admin.user.create({ data: { email: 'Alice@A.test', name: 'x' } })).rejects.toThrow(
      /users_email_lowercase/,
    )
    await expect(
      admin.user.create({ data: { email: 'alice@a.test', name: 'x' } }),
    ).rejects.toMatchObject({ code: 'P2002' })
  })

  it('allows one membership per user and organization', async () => {
    await expect(
      admin.membership.create({
        data: { organizationId: ids.orgA, userId: ids.alice, role: 'member' },
      }),
    ).rejects.toMatchObject({
      code: 'P2002',
    })
  })

  it("refuses a task that points at another organization's project or a non-member", async () => {
    const project = await admin.project.create({
      data: { organizationId: ids.orgB, name: 'B only' },
    })
    await expect(
      admin.task.create({
        data: { organizationId: ids.orgA, projectId: project.id, title: 'smuggled' },
      }),
    ).rejects.toThrow(/Foreign key constraint|foreign key/i)
    await expect(
      admin.task.create({
        data: {
          organizationId: ids.orgB,
          projectId: project.id,
          title: 'x',
          assigneeId: ids.alice,
        },
      }),
    ).rejects.toThrow(/Foreign key constraint|foreign key/i)
    await admin.project.delete({ where: { id: project.id } })
  })

  it('keeps the audit log append-only, for the owner too', async () => {
    const entry = await withTenant(app, { organizationId: ids.orgA, userId: ids.alice }, (tx) =>
      tx.auditLog.create({
        data: { organizationId: ids.orgA, actorUserId: ids.alice, action: 'member.added' },
      }),
    )
    await expect(
      admin.auditLog.update({ where: { id: entry.id }, data: { action: 'edited' } }),
    ).rejects.toThrow(/append-only/)
    await expect(admin.auditLog.deleteMany({})).rejects.toThrow(/append-only/)
    await expect(admin.$executeRawUnsafe('TRUNCATE audit_logs')).rejects.toThrow(/append-only/)
    await expect(rawAsApp([`DELETE FROM audit_logs`])).rejects.toThrow(/permission denied/)
    expect(await admin.auditLog.count()).toBe(1)
  })

  it('has an index starting with the columns of every foreign key', async () => {
    const unindexed = await admin.$queryRaw<{ name: string }[]>`
      SELECT c.conrelid::regclass || '.' || c.conname AS name
      FROM pg_constraint c
      WHERE c.contype = 'f' AND c.connamespace = 'public'::regnamespace
        AND NOT EXISTS (
          SELECT 1 FROM pg_index i
          WHERE i.indrelid = c.conrelid
            AND (i.indkey::int2[])[0:cardinality(c.conkey) - 1] @> c.conkey
            AND (i.indkey::int2[])[0:cardinality(c.conkey) - 1] <@ c.conkey)
      ORDER BY 1`
    expect(unindexed).toEqual([])
  })

  it('grants each cross-tenant definer function to one role only, never to PUBLIC', async () => {
    const grants = await admin.$queryRaw<{ name: string; grantees: string[] }[]>`
      SELECT p.proname::text AS name,
        array_agg(DISTINCT COALESCE(r.rolname::text, 'PUBLIC')) AS grantees
      FROM pg_proc p
      CROSS JOIN LATERAL aclexplode(COALESCE(p.proacl, acldefault('f', p.proowner))) a
      LEFT JOIN pg_roles r ON r.oid = a.grantee
      WHERE p.pronamespace = 'public'::regnamespace AND p.prosecdef
        AND a.privilege_type = 'EXECUTE' AND a.grantee <> p.proowner
      GROUP BY p.proname ORDER BY 1`
    expect(Object.fromEntries(grants.map((g) => [g.name, g.grantees]))).toEqual({
      app_membership_access: ['groundwork_app'],
      app_membership_role: ['groundwork_app'],
      audit_logs_prune: ['groundwork_worker'],
      ops_resource_organization: ['groundwork_worker'],
      outbox_claim: ['groundwork_worker'],
      outbox_mark_published: ['groundwork_worker'],
      outbox_release: ['groundwork_worker'],
      outbox_stats: ['groundwork_worker'],
      outbox_sweep: ['groundwork_worker'],
      purge_expired_idempotency_keys: ['groundwork_app'],
      webhook_deliveries_sweep: ['groundwork_worker'],
    })
  })
})
