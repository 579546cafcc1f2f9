import { createDatabaseClient, type PrismaClient } from '../src/index.ts'

/**
 * Tables that hold no organization's data, each reviewed. A new table must be either
 * tenant-owned (an `organization_id`, row-level security forced, policies that read the
 * request's context, and a row in the fixture of isolation-by-behaviour.test.ts) or
 * listed here with the reason it is global: anything else fails tenancy.test.ts.
 */
export const GLOBAL_TABLES: Record<string, string> = {
  _prisma_migrations: 'the migration history; the app login cannot read it (tenancy.test.ts)',
  users: 'accounts, reached by id or token hash through @repo/auth and @repo/core',
  sessions: "an account's sessions, by token hash or user id",
  email_verifications: "an account's verification links, by token hash",
  password_resets: "an account's reset links, by token hash",
  mfa_factors: "an account's second factor, by user id",
  recovery_codes: "an account's recovery codes, by user id",
  oauth_accounts: "an account's linked providers, by provider id",
  incoming_webhook_events: "Stripe's events, stored before any tenant is known",
  stripe_subscriptions: 'billing state keyed by Stripe ids',
}

export interface CatalogTable {
  table: string
  /** The column naming the row's organization; null for a table that has none. */
  tenantColumn: 'organization_id' | 'id' | null
  enabled: boolean
  forced: boolean
}

/**
 * Every table of the schema, read from the catalog (never from a hand-kept list). The
 * tenants' own table is keyed by its id; every other tenant table by `organization_id`.
 */
export function catalogTables(db: PrismaClient): Promise<CatalogTable[]> {
  return db.$queryRaw<CatalogTable[]>`
    SELECT c.relname::text AS table, c.relrowsecurity AS enabled, c.relforcerowsecurity AS forced,
      CASE
        WHEN c.relname = 'organizations' THEN 'id'
        WHEN EXISTS (SELECT 1 FROM pg_attribute a WHERE a.attrelid = c.oid
                     AND a.attname = 'organization_id' AND NOT a.attisdropped)
          THEN 'organization_id'
      END AS "tenantColumn"
    FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p')
    ORDER BY 1`
}

/** Client settings for the test's two logins: the owner (`admin`) and the application's. */
export const clientConfig = (url: string) => ({
  DATABASE_URL: url,
  DATABASE_POOL_MAX: 3,
  DATABASE_CONNECT_TIMEOUT_MS: 2_000,
  DATABASE_STATEMENT_TIMEOUT_MS: 5_000,
})

/** A client of `url` on a pool of one connection, as `createDatabaseClient` makes it. */
export const oneConnectionClient = (
  url: string,
  config: { DATABASE_NAMED_STATEMENTS?: boolean } = {},
) => createDatabaseClient({ ...clientConfig(url), DATABASE_POOL_MAX: 1, ...config })

/** The named statements (ADR 049) on the connection `db` runs this query on. */
export const namedStatementsOn = (db: PrismaClient) =>
  db.$queryRaw<{ name: string; statement: string }[]>`
    SELECT name, statement FROM pg_prepared_statements WHERE name LIKE 'groundwork\_%'`

/**
 * Organizations A and B, each owned by one user (alice of A, bob of B), written as the
 * owner login, which row-level security does not restrict.
 */
export async function seedTwoTenants(
  admin: PrismaClient,
  ids: { orgA: string; orgB: string; alice: string; bob: string },
) {
  await admin.organization.createMany({
    data: [
      { id: ids.orgA, name: 'A' },
      { id: ids.orgB, name: 'B' },
    ],
  })
  await admin.user.createMany({
    data: [
      { id: ids.alice, email: 'alice@a.test', name: 'Alice' },
      { id: ids.bob, email: 'bob@b.test', name: 'Bob' },
    ],
  })
  await admin.membership.createMany({
    data: [
      { organizationId: ids.orgA, userId: ids.alice, role: 'owner' },
      { organizationId: ids.orgB, userId: ids.bob, role: 'owner' },
    ],
  })
}

/**
 * An Idempotency-Key claim held on organization `organizationId`'s behalf, its row
 * written by `admin` (the owner login): what a request's claim leaves for its writes to mark.
 */
export async function claimFor(admin: PrismaClient, organizationId: string) {
  const scopeHash = crypto.randomUUID().replaceAll('-', '').padEnd(64, '0')
  const lockedUntil = new Date(Date.now() + 60_000)
  await admin.idempotencyKey.create({
    data: {
      organizationId,
      scopeHash,
      requestHash: '0'.repeat(64),
      lockedUntil,
      expiresAt: new Date(Date.now() + 86_400_000),
    },
  })
  return { scopeHash, lockedUntil }
}
