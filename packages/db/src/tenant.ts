import { AsyncLocalStorage } from 'node:async_hooks'
import { databasePool, queryListener } from './client.ts'
import { databaseErrorState, SQLSTATE } from './database-errors.ts'
import type { Prisma, PrismaClient } from './generated/prisma/client.ts'
import {
  isReadStatement,
  type PipelinedRows,
  type PipelinedStatement,
  runReadWithSettings,
  runStatementsWithSettings,
  runStatementWithSettings,
  startWithSettings,
  type TransactionSettings,
  TransactionSettingsPool,
} from './transaction-settings.ts'

/** An Idempotency-Key claim held by the request this code runs for. */
export interface HeldClaim {
  scopeHash: string
  lockedUntil: Date
}

/** Mutable, so the request can stop holding its claim once its answer is decided. */
const heldClaim = new AsyncLocalStorage<{ claim: HeldClaim | undefined }>()

/** The request's Idempotency-Key claim was taken over by a retry; its change rolled back. */
export class ClaimLostError extends Error {
  override name = 'ClaimLostError'
  constructor() {
    super('the Idempotency-Key claim was taken over by a retry; this change was rolled back')
  }
}

/**
 * An Idempotency-Key a request claims with its one write (ADR 046), and the answer it will
 * send, sealed: the key's row goes in as the write's first statement, holding the answer.
 */
export interface KeyWithAnswer {
  scopeHash: string
  organizationId: string | undefined
  requestHash: string
  lockedUntil: Date
  expiresAt: Date
  status: number
  /** The replayed headers, as JSON. */
  headers: string
  /** The answer's body, sealed with the server's key. */
  body: Uint8Array
}

/** The key a request claims with its write; `sent` once a write has carried it. */
const keyInWrite = new AsyncLocalStorage<{ key: KeyWithAnswer; sent: boolean }>()

/**
 * The write that was to claim the request's key rolled back: the key has a row already (a
 * retry, a concurrent duplicate that committed first, an expired key not yet purged).
 * Nothing was written; the caller claims the key as ADR 041 does.
 */
export class KeyKnownError extends Error {
  override name = 'KeyKnownError'
  /** True when another request's write is claiming the key right now: a duplicate. */
  readonly inProgress: boolean
  constructor(inProgress = false) {
    super(
      inProgress
        ? 'another request is claiming the Idempotency-Key; the write that was to claim it rolled back'
        : 'the Idempotency-Key has a row already; the write that was to claim it rolled back',
    )
    this.inProgress = inProgress
  }
}

/**
 * Runs `work`, whose one write (writeWithTenant) claims `key` and stores its answer in the
 * same transaction as the change (ADR 046): the key, the change and the answer commit
 * together or not at all. Any other write in `work` (a second writeWithTenant, a withTenant
 * transaction) is refused with an error: it would be an effect the key does not cover.
 * Rejects with `KeyKnownError` when the key has a row already, or (`inProgress`) when
 * another request's write is claiming it at this moment.
 */
export async function runClaimingKeyInWrite<T>(
  key: KeyWithAnswer,
  work: () => Promise<T>,
): Promise<T> {
  const store = { key, sent: false }
  const result = await keyInWrite.run(store, work)
  // Work that made no writeWithTenant claimed no key: whatever it did, a retry would do
  // again. A bug in the caller, refused before its answer goes out.
  if (!store.sent)
    throw new TypeError(
      'runClaimingKeyInWrite: the work made no writeWithTenant, so the Idempotency-Key was never claimed',
    )
  return result
}

/**
 * Runs `work` (the rest of a request) holding an Idempotency-Key claim: every transaction
 * it commits through withTenant, withUser or withNoContext also marks the claim "effect
 * committed", atomically with the change. A retry of a request that died after its commit
 * then never runs it again.
 */
export function runHoldingClaim<T>(claim: HeldClaim, work: () => T): T {
  return heldClaim.run({ claim }, work)
}

/**
 * The request's answer is decided (stored for replay, or the key freed): what it writes
 * after that (an audit entry in an onResponse hook) is not its effect, and must neither
 * mark the claim nor fail because the key was freed.
 */
export function stopHoldingClaim(): void {
  const hold = heldClaim.getStore()
  if (hold) hold.claim = undefined
}

/**
 * What tells a transaction from the client, for the compiler: the client has
 * `$disconnect`, a transaction does not. Code that writes takes a transaction, so handing
 * it the client, whose writes mark no Idempotency-Key claim, fails to compile with this text.
 */
interface OpenedByAHelper {
  $disconnect?: 'a transaction of withTenant, withUser or withNoContext (@repo/db), not the client: writes on the client mark no Idempotency-Key claim'
}

/**
 * A transaction whose queries run under one context (withTenant, withUser, withNoContext),
 * or the part of it a function needs (`TenantTransaction<'auditLog'>`). Never the client.
 */
export type TenantTransaction<
  Models extends keyof Prisma.TransactionClient = keyof Prisma.TransactionClient,
> = Pick<Prisma.TransactionClient, Models> & OpenedByAHelper

/** Who is acting: the organization comes from the authenticated context, never a body. */
export interface TenantContext {
  organizationId: string
  /** The acting user, when a user (not an API key) is acting. */
  userId?: string | undefined
}

/**
 * Runs `work` in one transaction with the row-level security context set by
 * transaction-local settings (set_config(..., true)): they vanish at commit or rollback,
 * so a pooled connection never carries one request's tenant into the next. One
 * transaction per unit of work, not per query (docs/decisions/006). A client of
 * `createDatabaseClient` sends the settings with the transaction's BEGIN, in one round
 * trip; any other client gets them from a statement of their own (docs/decisions/037).
 */
async function withSettings<T>(
  db: PrismaClient,
  settings: TransactionSettings,
  work: (tx: TenantTransaction) => Promise<T>,
  { readOnly = false }: { readOnly?: boolean } = {},
): Promise<T> {
  // A presented secret is the idempotency bookkeeping itself (or a lookup), and a read-only
  // transaction changes nothing: neither is an effect.
  if (settings.secretHash === undefined && !readOnly && keyInWrite.getStore())
    throw new TypeError(
      'this request claims its Idempotency-Key with its one write (writeWithTenant, ADR 046): a transaction beside it would be an effect the key does not cover',
    )
  const claim =
    settings.secretHash === undefined && !readOnly ? heldClaim.getStore()?.claim : undefined
  return startWithSettings(settings, (sentWithBegin) =>
    db.$transaction(async (tx) => {
      if (!sentWithBegin()) {
        await tx.$executeRaw`SELECT
          set_config('app.organization_id', ${settings.organizationId ?? ''}, true),
          set_config('app.user_id', ${settings.userId ?? ''}, true),
          set_config('app.secret_hash', ${settings.secretHash ?? ''}, true)`
      }
      if (readOnly) await tx.$executeRaw`SELECT set_config('transaction_read_only', 'on', true)`
      const result = await work(tx)
      if (claim) {
        // One statement: the function presents the claim's scope hash (making its row, and
        // only it, visible) for its own duration and marks the row if the claim still holds.
        const [row] = await tx.$queryRaw<[{ marked: number }]>`
          SELECT app_mark_idempotency_effect(${claim.scopeHash}, ${claim.lockedUntil.toISOString()}::timestamptz) AS marked`
        // The claim is no longer this request's: it outlived its lock and a retry took the
        // key over (and may be making the same change). Roll this one back: one effect.
        if (row?.marked !== 1) throw new ClaimLostError()
      }
      return result
    }),
  )
}

/** Tenant-owned data of one organization; rows of every other organization are invisible. */
export function withTenant<T>(
  db: PrismaClient,
  context: TenantContext,
  work: (tx: TenantTransaction) => Promise<T>,
): Promise<T> {
  return withSettings(db, tenantSettings(context), work)
}

/** What the policies read for a tenant context: the organization, and the user if any. */
const tenantSettings = (context: TenantContext): TransactionSettings => ({
  organizationId: context.organizationId,
  ...(context.userId ? { userId: context.userId } : {}),
})

/** What a one-statement read may call: no findUnique, which Prisma batches across callers. */
const READ_METHODS = [
  'findMany',
  'findFirst',
  'findFirstOrThrow',
  'count',
  'aggregate',
  'groupBy',
] as const
type ReadMethod = (typeof READ_METHODS)[number]
const readMethods = new Set<string | symbol>(READ_METHODS)
type Model = {
  [K in keyof PrismaClient]: PrismaClient[K] extends { findMany: unknown } ? K : never
}[keyof PrismaClient]

/**
 * The models, and of each only the reads that send one statement and are never merged
 * with another caller's: `findUnique` is left out because Prisma batches the findUnique
 * calls of one tick into one query, which would run with one caller's settings.
 */
export type TenantReader = {
  [K in Model]: Pick<PrismaClient[K], ReadMethod & keyof PrismaClient[K]>
}

/**
 * One read of one organization's data in ONE round trip, for hot read paths: the tenant
 * settings go out with the statement in one pipeline, with no BEGIN or COMMIT
 * (docs/decisions/043), where withTenant costs three round trips for a one-query read.
 * The settings are transaction-local all the same (the statement's implicit transaction
 * ends at the pipeline's Sync), and the read runs read-only. `read` must send exactly one
 * statement: a second (a relation loaded by a query of its own) or a transaction is
 * refused with an error, never run without the settings. On a client not made by
 * `createDatabaseClient` it runs in a read-only withTenant transaction instead, which, like
 * the one-statement read, marks no Idempotency-Key claim (a read is no effect).
 */
export function readWithTenant<T>(
  db: PrismaClient,
  context: TenantContext,
  read: (db: TenantReader) => PromiseLike<T>,
): Promise<T> {
  const settings = tenantSettings(context)
  if (!(databasePool(db) instanceof TransactionSettingsPool))
    return withSettings(db, settings, async (tx) => read(readerOf(tx as unknown as PrismaClient)), {
      readOnly: true,
    })
  return runStatementWithSettings(settings, () => read(readerOf(db)))
}

/**
 * readWithTenant for one statement of our own SQL, sent through the client's pool without
 * Prisma's query layer, for the hottest lists (docs/decisions/048): the tenant settings
 * and the statement in one round trip, read-only, row-level security applying as with any
 * other read. `statement` is a `Prisma.sql` template (values bound, never spliced) of one
 * SELECT or WITH; anything else is refused before it is sent. It names tables and columns
 * as the database does, and answers node-postgres's rows (`timestamptz` as `Date`,
 * integers as numbers, enums as their text): alias the columns to the model's field names
 * and keep a test that the rows equal what the Prisma form of the query returns. The
 * statement and its values go to the client's `onQuery`. Needs a client of
 * `createDatabaseClient`. It travels as writeWithTenant's statements do (one pipeline on
 * a connection of its own), its statements prepared by name once per connection
 * (docs/decisions/049): keep the text fixed and the values bound, so one list is one
 * name. A stale name (DEALLOCATE, a pooler, a migration under a `*`) is read once more.
 * Refused inside a transaction's callback, where it would read on another connection,
 * apart from the transaction: read through the transaction there.
 * The SQL is yours, so is what it does to the session: no `set_config(..., false)`, no
 * session-level advisory lock, nothing that outlives the statement on a pooled connection
 * (the settings and read-only mode end with it).
 */
export async function readSqlWithTenant<Row>(
  db: PrismaClient,
  context: TenantContext,
  statement: Prisma.Sql,
): Promise<Row[]> {
  const pool = databasePool(db)
  if (!(pool instanceof TransactionSettingsPool))
    throw new TypeError('readSqlWithTenant needs a client made by createDatabaseClient')
  const { text, values } = statement
  // Refused before onQuery hears it: a statement never sent is not counted.
  if (!isReadStatement(text))
    throw new TypeError(
      `readSqlWithTenant carries one read (SELECT or WITH), and this is not one: use writeWithTenant or withTenant: ${text.slice(0, 60)}`,
    )
  queryListener(db)?.(text, values)
  return (await runReadWithSettings(pool, tenantSettings(context), { text, values })) as Row[]
}

/**
 * The client as a reader: its models and, of each, only the read methods; anything else
 * throws at once, so a cast (or plain JavaScript) cannot reach `findUnique`, a write,
 * `$queryRaw` or `$transaction` through it. The client the callback closes over is
 * another matter: inside the callback, use the reader only (ADR 043).
 */
function readerOf(db: PrismaClient): TenantReader {
  const models = db as unknown as Record<string | symbol, unknown>
  return new Proxy({} as TenantReader, {
    get(_, model) {
      const delegate = models[model] as Record<string | symbol, unknown> | undefined
      if (
        typeof model === 'symbol' ||
        model.startsWith('$') ||
        typeof delegate?.findMany !== 'function'
      )
        throw new TypeError(`readWithTenant's reader has the models only, not ${String(model)}`)
      return new Proxy(delegate, {
        get(target, method) {
          if (!readMethods.has(method))
            throw new TypeError(
              `readWithTenant's reader cannot ${String(method)}: it reads with ${READ_METHODS.join(', ')} (findUnique is batched across callers: use findFirst; write in withTenant)`,
            )
          const run = target[method] as (...args: unknown[]) => unknown
          return (...args: unknown[]) => run.apply(target, args)
        },
      })
    },
  })
}

/**
 * One write of one organization in ONE round trip, for hot write paths whose statements
 * are all known before the first is sent (docs/decisions/045): the tenant settings, the
 * statements and, when the request holds an Idempotency-Key claim, its mark (or, inside
 * `runClaimingKeyInWrite`, the key's claim with its answer, first; ADR 046), in one
 * pipeline ending in one Sync. Postgres runs them as one implicit transaction: they commit
 * together at the Sync, or an error in any rolls back all of them (the statements after
 * it never run), and the transaction-local settings end with it either way, as
 * withTenant's do at COMMIT. A check that must stop the write is a statement that raises
 * (`app_take_project_quota`), not one whose answer the caller reads: nothing is read
 * before the commit. Answers the rows of each statement, as node-postgres parses them.
 *
 * Statements are `Prisma.sql` templates (values bound, never spliced), of SELECT, WITH,
 * INSERT, UPDATE or DELETE only; they go around Prisma, so they name tables and columns as
 * the database does, and a failure is node-postgres's `DatabaseError` (its SQLSTATE in
 * `code`; `databaseErrorState` reads it from either). A lost claim is `ClaimLostError`.
 * Needs a client of `createDatabaseClient`; anything with a branch between statements
 * belongs in withTenant.
 */
export async function writeWithTenant(
  db: PrismaClient,
  context: TenantContext,
  statements: readonly Prisma.Sql[],
): Promise<PipelinedRows> {
  const pool = databasePool(db)
  if (!(pool instanceof TransactionSettingsPool))
    throw new TypeError('writeWithTenant needs a client made by createDatabaseClient')
  const sent: PipelinedStatement[] = statements.map((s) => ({ text: s.text, values: s.values }))
  const inWrite = keyInWrite.getStore()
  if (inWrite) {
    if (inWrite.sent)
      throw new TypeError(
        'this request claimed its Idempotency-Key with its write (ADR 046) and makes one: this is a second',
      )
    inWrite.sent = true
    const { key } = inWrite
    // First, before the change: a concurrent duplicate is refused here (GWK02), at once.
    sent.unshift({
      text: 'SELECT app_claim_idempotency_key_with_answer($1::bpchar, $2::uuid, $3::bpchar, $4::timestamptz, $5::timestamptz, $6::integer, $7::jsonb, $8::bytea)',
      values: [
        key.scopeHash,
        key.organizationId ?? null,
        key.requestHash,
        key.lockedUntil.toISOString(),
        key.expiresAt.toISOString(),
        key.status,
        key.headers,
        key.body,
      ],
    })
  }
  const claim = inWrite ? undefined : heldClaim.getStore()?.claim
  if (claim)
    sent.push({
      text: 'SELECT app_require_idempotency_effect($1::bpchar, $2::timestamptz)',
      values: [claim.scopeHash, claim.lockedUntil.toISOString()],
    })
  const onQuery = queryListener(db)
  if (onQuery) for (const { text, values } of sent) onQuery(text, values)
  try {
    const rows = await runStatementsWithSettings(pool, tenantSettings(context), sent)
    return rows.slice(inWrite ? 1 : 0, claim ? -1 : undefined)
  } catch (error) {
    const state = databaseErrorState(error)
    // The claim outlived its lock and a retry took the key over: this write rolled back.
    if (state === SQLSTATE.claimLost) throw new ClaimLostError()
    if (state === SQLSTATE.keyKnown) throw new KeyKnownError()
    if (state === SQLSTATE.keyInUse) throw new KeyKnownError(true)
    throw error
  }
}

/**
 * One statement on its own (autocommit, no tenant settings), sent by node-postgres around
 * Prisma's query layer, for the hottest calls of our own SQL functions, which present
 * their context themselves (the Idempotency-Key claim and its stored answer, ADR 041):
 * the same statement as `db.$queryRaw`, without the client's query building and result
 * mapping on every request (ADR 045). Answers node-postgres's rows; a failure is its
 * `DatabaseError` (`databaseErrorState` reads either). On a client not made by
 * `createDatabaseClient` it is `db.$queryRaw`.
 */
export async function queryStatement<Row = Record<string, unknown>>(
  db: PrismaClient,
  statement: Prisma.Sql,
): Promise<Row[]> {
  const pool = databasePool(db)
  if (!(pool instanceof TransactionSettingsPool)) return db.$queryRaw<Row[]>(statement)
  queryListener(db)?.(statement.text, statement.values)
  const result = await pool.query({ text: statement.text, values: [...statement.values] })
  return result.rows as Row[]
}

/**
 * No organization yet, only a user: their own memberships and the organizations they
 * belong to are visible ("my organizations"), nothing else tenant-owned.
 */
export function withUser<T>(
  db: PrismaClient,
  userId: string,
  work: (tx: TenantTransaction) => Promise<T>,
): Promise<T> {
  return withSettings(db, { userId }, work)
}

/**
 * No organization and no user: row-level-secured tables show nothing, and accept only the
 * rows their policies allow without a context (audit entries and outbox messages of no
 * organization). For account tables when nobody is signed in yet (a reset or verification
 * link, an OAuth callback), incoming webhooks and maintenance jobs. Like withTenant and
 * withUser, it marks the request's Idempotency-Key claim when there is one: use it, never
 * `db.$transaction` or a write on the client (a lint rule refuses those; docs/decisions/019).
 */
export function withNoContext<T>(
  db: PrismaClient,
  work: (tx: TenantTransaction) => Promise<T>,
): Promise<T> {
  return withSettings(db, {}, work)
}

/**
 * A caller presented a secret (invitation token, API key): the one row whose stored hash
 * equals `secretHash` becomes visible, so it can be resolved before any tenant is known.
 */
export function withPresentedSecret<T>(
  db: PrismaClient,
  secretHash: string,
  work: (tx: TenantTransaction) => Promise<T>,
): Promise<T> {
  return withSettings(db, { secretHash }, work)
}
