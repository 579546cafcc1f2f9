import { PrismaPg } from '@prisma/adapter-pg'
import type { databaseEnv } from '@repo/config'
import type pg from 'pg'
import type { z } from 'zod'
import { PrismaClient } from './generated/prisma/client.ts'
import { TransactionSettingsClient, TransactionSettingsPool } from './transaction-settings.ts'

export type DatabaseConfig = z.infer<typeof databaseEnv>

/**
 * Builds a Prisma client over a node-postgres pool sized and timed from config. The API
 * creates one per app instance (one per process in production; tests build several);
 * code without such an owner, like Next.js server code, uses `getDb()`.
 */
export function createDatabaseClient(
  config: DatabaseConfig,
  /**
   * Called with every SQL statement Prisma sends, and those sent around it
   * (readSqlWithTenant, writeWithTenant), with its parameters: tests count statements to
   * catch N+1 queries, and run a list's statement under EXPLAIN. A transaction's BEGIN,
   * which carries its tenant settings, is not among them.
   */
  onQuery?: QueryListener,
  /**
   * Told, as a warning, when the server ends one of the pool's idle connections (a
   * restarted or failed-over server, a terminated backend, a proxy's idle timeout). The
   * pool has dropped it and opens another when one is needed, so nothing fails, but an
   * operator should see it. The API and the worker pass their loggers.
   */
  logger?: { warn(details: object, message: string): void },
): PrismaClient {
  // The pool is ours, handed to the adapter (which ends it on $disconnect), so its usage
  // can be read for metrics (`databasePool`).
  // Sends the settings of a one-statement read with its statement (readWithTenant;
  // docs/decisions/043).
  const pool = new TransactionSettingsPool({
    // Sends a tenant transaction's BEGIN and its row-level security settings in one round
    // trip (withTenant and the other helpers; docs/decisions/037).
    Client: TransactionSettingsClient,
    connectionString: config.DATABASE_URL,
    max: config.DATABASE_POOL_MAX,
    connectionTimeoutMillis: config.DATABASE_CONNECT_TIMEOUT_MS,
    // Enforced by Postgres per statement, so a runaway query cannot hold a connection.
    statement_timeout: config.DATABASE_STATEMENT_TIMEOUT_MS,
    // A transaction left open by a bug must not hold locks forever.
    idle_in_transaction_session_timeout: config.DATABASE_STATEMENT_TIMEOUT_MS * 2,
    application_name: process.env.npm_package_name ?? 'groundwork',
    // Every session in UTC (ADR 042): Prisma's adapter writes a DateTime without an offset
    // and reads a timestamptz as if its offset were UTC (prisma/orm#26786), so a server,
    // database or role set to another zone would shift every time, silently. The pool
    // awaits this before handing a new connection out (and ends it if it fails): one
    // round trip per connection, none per query. A SET, not the `options` startup
    // parameter, which PgBouncer before 1.20 refuses; PgBouncer tracks TimeZone and
    // carries a client's SET to whichever server connection serves it.
    onConnect: (client) => client.query(`SET TimeZone = 'UTC'`),
  })
  // A write in one round trip prepares its statements by name (docs/decisions/049).
  pool.namedStatements = config.DATABASE_NAMED_STATEMENTS !== false
  const adapter = new PrismaPg(pool, { disposeExternalPool: true })
  const client = onQuery
    ? new PrismaClient({ adapter, log: [{ emit: 'event', level: 'query' }] })
    : new PrismaClient({ adapter })
  if (onQuery) {
    ;(client as PrismaClient<'query'>).$on('query', (event) =>
      onQuery(event.query, parseParams(event.params)),
    )
    // Statements sent around Prisma (readSqlWithTenant's, writeWithTenant's) are reported too.
    queryListeners.set(client, onQuery)
  }
  // Statements sent around Prisma (readSqlWithTenant, writeWithTenant, queryStatement) use
  // the pool before Prisma may have connected, and Prisma's adapter hears the pool and ends
  // it only once it has: an idle connection's error (a restarted server, a terminated
  // backend), which the pool answers by dropping that connection, would otherwise be an
  // 'error' event nobody hears, which ends the process; and $disconnect would leave the
  // pool's connections open. The owner's logger hears it.
  pool.on('error', (err) =>
    logger?.warn(
      { err },
      'postgres ended an idle pooled connection; the pool opens another when one is needed',
    ),
  )
  const disconnect = client.$disconnect.bind(client)
  let ending: Promise<void> | undefined
  Object.assign(client, {
    $disconnect: async () => {
      await disconnect()
      // Ended already when Prisma had connected (its adapter awaits the end); a second
      // caller waits for the first's.
      if (!pool.ending) ending = pool.end()
      await ending
    },
  })
  pools.set(client, pool)
  return client
}

const pools = new WeakMap<PrismaClient, pg.Pool>()
const queryListeners = new WeakMap<PrismaClient, QueryListener>()

/** Hears a statement the client sends: its text and its parameters, in order. */
export type QueryListener = (sql: string, params: readonly unknown[]) => void

/** Prisma's query event carries the parameters as JSON text. */
function parseParams(params: string): unknown[] {
  try {
    const parsed: unknown = JSON.parse(params)
    return Array.isArray(parsed) ? parsed : []
  } catch {
    return []
  }
}

/** The `onQuery` a client was made with, for statements sent around Prisma. */
export function queryListener(client: PrismaClient): QueryListener | undefined {
  return queryListeners.get(client)
}

/**
 * The node-postgres pool under a client made by `createDatabaseClient`: its connection
 * counts (total, idle, clients waiting) are what the metrics report as pool usage.
 */
export function databasePool(client: PrismaClient): pg.Pool | undefined {
  return pools.get(client)
}

// Kept on globalThis so dev-server hot reloads reuse one pool instead of leaking new ones.
const globalForDb = globalThis as unknown as { groundworkDb?: PrismaClient }

/** The process-wide client. The first call fixes its config. */
export function getDb(config: DatabaseConfig): PrismaClient {
  globalForDb.groundworkDb ??= createDatabaseClient(config)
  return globalForDb.groundworkDb
}

/** Closes the process-wide client, if one was created (graceful shutdown). */
export async function closeDb(): Promise<void> {
  const db = globalForDb.groundworkDb
  globalForDb.groundworkDb = undefined
  await db?.$disconnect()
}
