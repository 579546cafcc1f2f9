/// <reference path="./types/pg-utils.d.ts" />
import { AsyncLocalStorage } from 'node:async_hooks'
import { createHash } from 'node:crypto'
import pg from 'pg'
import pgUtils from 'pg/lib/utils.js'

/** The row-level security context of one transaction: what the policies read (ADR 006). */
export interface TransactionSettings {
  organizationId?: string
  userId?: string
  secretHash?: string
}

/** Each setting and the field it comes from; an absent field is sent as '' (no context). */
const SETTINGS = [
  ['app.organization_id', 'organizationId'],
  ['app.user_id', 'userId'],
  ['app.secret_hash', 'secretHash'],
] as const

/**
 * Settings on their way to the database. For a transaction (`startWithSettings`): `waiting`
 * until a BEGIN carries them, `sent` once one has, `closed` from the moment the
 * transaction's own code runs, so no later BEGIN in the same async context (a nested
 * transaction) takes them. For one statement (`runStatementWithSettings`): `waiting`
 * until the statement goes out with them, `sent` after, `closed` once the read is over.
 */
interface Pending {
  kind: 'transaction' | 'statement'
  settings: TransactionSettings
  state: 'waiting' | 'sent' | 'closed'
  /** A transaction's: true until it has committed or rolled back. */
  running?: boolean
}

const pending = new AsyncLocalStorage<Pending>()

/**
 * The settings of a one-statement read still under way in this async context, if any. A
 * read that is over leaves its store to whatever it started (a promise that settles
 * later): that work is no part of the read, and goes out as if there were none.
 */
function openRead(): Pending | undefined {
  const store = pending.getStore()
  return store?.kind === 'statement' && store.state !== 'closed' ? store : undefined
}

/**
 * Runs `start`, which starts one transaction (`db.$transaction`), with `settings` ready to
 * go out with its BEGIN on a connection of `TransactionSettingsClient`. The transaction's
 * callback calls `sentWithBegin()` first: true when its BEGIN carried the settings, false
 * when it must set them itself (a client not made by `createDatabaseClient`). Either way,
 * no other BEGIN carries them afterwards.
 */
export function startWithSettings<T>(
  settings: TransactionSettings,
  start: (sentWithBegin: () => boolean) => Promise<T>,
): Promise<T> {
  const store: Pending = { kind: 'transaction', settings, state: 'waiting', running: true }
  return pending
    .run(store, () =>
      start(() => {
        const sent = store.state === 'sent'
        store.state = 'closed'
        return sent
      }),
    )
    .finally(() => {
      // Even when the transaction never began: no later BEGIN in this context takes them.
      store.state = 'closed'
      store.running = false
    })
}

/**
 * The BEGIN and the transaction-local settings, as one simple-protocol query: one round
 * trip instead of two. Literals escaped by node-postgres; a value holding a NUL character
 * (which would end the query text on the wire) is never sent this way.
 */
function beginWithSettingsSql(settings: TransactionSettings): string | undefined {
  const values = SETTINGS.map(([name, field]) => [name, settings[field] ?? ''] as const)
  if (values.some(([, value]) => value.includes('\0'))) return undefined
  const calls = values.map(
    ([name, value]) => `set_config('${name}', ${pg.escapeLiteral(value)}, true)`,
  )
  return `BEGIN; SELECT ${calls.join(', ')}`
}

/** What @prisma/adapter-pg's startTransaction sends: `{ text: 'BEGIN', values: [] }`. */
function isBareBegin(config: unknown): config is pg.QueryConfig {
  if (typeof config !== 'object' || config === null) return false
  const { text, values, name } = config as pg.QueryConfig
  return text === 'BEGIN' && (values === undefined || values.length === 0) && !name
}

/**
 * The pool's connection class (`createDatabaseClient`): when a transaction starts while
 * `startWithSettings` has settings waiting, its BEGIN goes out together with them. Prisma
 * has no hook for statements at the start of a transaction; the adapter's BEGIN is the
 * one place they can join it (docs/decisions/037).
 */
export class TransactionSettingsClient extends pg.Client {
  // pg's overloads (promise, callback, submittable) are passed through untouched.
  // biome-ignore lint/suspicious/noExplicitAny: the override must accept every overload of pg.Client.query
  override query(...args: any[]): any {
    const [config, values, callback] = args
    const store = pending.getStore()
    if (openRead() && isBareBegin(config))
      return refuse(
        'a transaction was started inside readWithTenant, which sends one statement and no transaction: use withTenant',
        typeof values === 'function' ? values : callback,
      )
    if (
      store?.kind === 'transaction' &&
      store.state === 'waiting' &&
      values === undefined &&
      callback === undefined
    ) {
      const text = isBareBegin(config) ? beginWithSettingsSql(store.settings) : undefined
      if (text !== undefined) {
        store.state = 'sent'
        // Two statements answer with two results; the adapter reads BEGIN's, as it would.
        return super
          .query({ ...config, text })
          .then((results: pg.QueryResult | pg.QueryResult[]) =>
            Array.isArray(results) ? results[0] : results,
          )
      }
    }
    // biome-ignore lint/complexity/noBannedTypes: forwarding whatever overload was called
    return (super.query as Function).apply(this, args)
  }
}

/**
 * The statement that sets the tenant context of a pipeline (a one-statement read, a write
 * in one round trip), transaction-local. Parameters, not literals: nothing in a value can
 * change the statement.
 */
const WRITE_SETTINGS_STATEMENT = `SELECT ${SETTINGS.map(
  ([name], i) => `set_config('${name}', $${i + 1}, true)`,
).join(', ')}`

/**
 * A one-statement read's: the same settings, and the transaction made read-only, so a
 * write sent this way (whose Idempotency-Key claim nobody would mark) fails instead of
 * committing.
 */
const SETTINGS_STATEMENT = `${WRITE_SETTINGS_STATEMENT}, set_config('transaction_read_only', 'on', true)`

/** What a one-statement read refuses, as the caller's form of pg's query expects it. */
function refuse(message: string, callback?: (error: Error) => void) {
  const error = new Error(message)
  if (typeof callback !== 'function') return Promise.reject(error)
  process.nextTick(() => callback(error))
  return undefined
}

/** The parts of node-postgres's connection and query that the statements below use. */
interface WireConnection {
  parse(message: { text: string; name?: string }): void
  bind(message: { values: (string | Buffer | null)[]; statement?: string }): void
  close(message: { type: 'S'; name: string }): void
  describe(message: { type: 'P'; name: string }): void
  execute(message: { portal: string }): void
  sync(): void
}
interface QueryInternals {
  prepare(connection: WireConnection): void
  handleDataRow(message: unknown): void
  handleCommandComplete(message: unknown, connection: WireConnection): void
}
const PgQuery = pg.Query as unknown as new (config: pg.QueryConfig) => QueryInternals

/**
 * One statement and its settings in one round trip, without BEGIN or COMMIT: the settings
 * statement and the statement itself go out in one extended-protocol pipeline ending in a
 * single Sync. Postgres runs everything before a Sync in one implicit transaction, so the
 * transaction-local settings hold for the statement and vanish at the Sync's commit (or
 * rollback): the connection goes back to the pool with none. The settings' own answer
 * (one row and its completion, no row description) is read and dropped; the statement's
 * is answered exactly as node-postgres answers any query.
 */
class StatementWithSettings extends PgQuery {
  readonly #settingValues: string[]
  #settingsAnswered = false

  constructor(config: pg.QueryConfig, settings: TransactionSettings) {
    // Extended protocol even for a statement without parameters: a simple query has no
    // place for the settings statement before it.
    super({ ...config, queryMode: 'extended' } as pg.QueryConfig)
    this.#settingValues = SETTINGS.map(([, field]) => settings[field] ?? '')
  }

  override prepare(connection: WireConnection) {
    connection.parse({ text: SETTINGS_STATEMENT })
    connection.bind({ values: this.#settingValues })
    connection.execute({ portal: '' })
    super.prepare(connection)
  }

  override handleDataRow(message: unknown) {
    if (this.#settingsAnswered) super.handleDataRow(message)
  }

  override handleCommandComplete(message: unknown, connection: WireConnection) {
    if (this.#settingsAnswered) super.handleCommandComplete(message, connection)
    else this.#settingsAnswered = true
  }
}

/**
 * Runs `read`, which sends exactly one statement through a pool of
 * `TransactionSettingsPool` (a Prisma query on the client, not in a transaction), with
 * `settings` going out with that statement in one round trip (docs/decisions/043). A
 * second statement, or a transaction, is refused with an error instead of running
 * without the settings. The read is awaited inside, so a lazy query (Prisma's) starts
 * while the settings are waiting for it.
 */
export async function runStatementWithSettings<T>(
  settings: TransactionSettings,
  read: () => PromiseLike<T>,
): Promise<T> {
  const store: Pending = { kind: 'statement', settings, state: 'waiting' }
  try {
    return await pending.run(store, async () => await read())
  } finally {
    store.state = 'closed'
  }
}

/**
 * A read: SELECT or WITH, after any comments. Anything else (BEGIN or START TRANSACTION,
 * which would turn the pipeline's implicit transaction into one that outlives its Sync
 * and goes back to the pool open, with the settings; SET, RESET, DISCARD) is refused.
 */
const READ_STATEMENT = /^\s*(?:(?:--[^\n]*(?:\n|$)|\/\*[\s\S]*?\*\/)\s*)*(?:SELECT|WITH)\b/i

/** Whether `text` is a read the one-statement path carries (SELECT or WITH). */
export const isReadStatement = (text: string) => READ_STATEMENT.test(text)

/** A statement the pipeline can carry: a read's text and values, no named statement or portal. */
function isPlainStatement(config: unknown): config is pg.QueryConfig {
  if (typeof config !== 'object' || config === null) return false
  const query = config as pg.QueryConfig & { submit?: unknown; rows?: unknown }
  return (
    typeof query.text === 'string' &&
    isReadStatement(query.text) &&
    !query.name &&
    query.rows === undefined &&
    query.submit === undefined
  )
}

/**
 * The pool of `createDatabaseClient`. A query it is asked for (Prisma's statements outside
 * a transaction go through `pool.query`) while `runStatementWithSettings` has settings
 * waiting is sent together with them. The settings are taken here, in the caller's async
 * context: the connection may come later, handed over in the context of whichever query
 * released it, where they could not be read.
 */
export class TransactionSettingsPool extends pg.Pool {
  /**
   * Whether a write or a read in one round trip (runStatementsWithSettings,
   * runReadWithSettings) prepares its statements by name, once per connection
   * (docs/decisions/049). `DATABASE_NAMED_STATEMENTS`.
   */
  namedStatements = true

  // biome-ignore lint/suspicious/noExplicitAny: the override must accept every overload of pg.Pool.query
  override query(...args: any[]): any {
    const store = openRead()
    // biome-ignore lint/complexity/noBannedTypes: forwarding whatever overload was called
    if (!store) return (super.query as Function).apply(this, args)
    const [config, values, callback] = args
    const done = typeof values === 'function' ? values : callback
    if (store.state !== 'waiting' || !isPlainStatement(config))
      return refuse(
        store.state === 'waiting'
          ? 'readWithTenant carries one read (SELECT or WITH; no named statement or cursor), and this is not one: use withTenant'
          : 'readWithTenant sends one statement and this read sent a second (a relation loaded by a query of its own, or a second query): use withTenant',
        done,
      )
    store.state = 'sent'
    const statement = new StatementWithSettings(
      Array.isArray(values) ? { ...config, values } : config,
      store.settings,
    )
    // biome-ignore lint/complexity/noBannedTypes: pg-pool answers a submittable like a query
    const send = super.query as Function
    return done ? send.call(this, statement, done) : send.call(this, statement)
  }
}

/** One statement of a write sent in one round trip: its text ($1, $2, ...) and values. */
export interface PipelinedStatement {
  text: string
  values: readonly unknown[]
}

/** What a write's pipeline answers: the rows of each of its statements, in order. */
export type PipelinedRows = Record<string, unknown>[][]

/**
 * A statement a write's pipeline may carry: a read or a write of rows (SELECT, WITH,
 * INSERT, UPDATE, DELETE, after any comments). Anything else is refused: BEGIN, COMMIT,
 * ROLLBACK or SAVEPOINT would end the pipeline's implicit transaction early or make it
 * outlive its Sync (back to the pool open, with the settings); SET or RESET would leave a
 * setting on the connection; a second statement in one text is refused by Postgres
 * (a prepared statement holds one command).
 */
const WRITE_STATEMENT =
  /^\s*(?:(?:--[^\n]*(?:\n|$)|\/\*[\s\S]*?\*\/)\s*)*(?:SELECT|WITH|INSERT|UPDATE|DELETE)\b/i

/**
 * The names of a pipeline's statements, a write's or a read's (docs/decisions/049): one
 * name per text, the same in every process, so a name on any server connection always
 * means the same statement, even behind a pooler that hands a client whichever server
 * connection is free. Bounded: a text beyond the first MAX_NAMED_STATEMENTS is sent
 * unnamed, parsed each time (a text that varies with its values would fill the map).
 */
const statementNames = new Map<string, string>()
const MAX_NAMED_STATEMENTS = 256

function statementName(text: string): string | undefined {
  let name = statementNames.get(text)
  if (name === undefined && statementNames.size < MAX_NAMED_STATEMENTS) {
    name = `groundwork_${createHash('sha256').update(text).digest('hex').slice(0, 40)}`
    statementNames.set(text, name)
  }
  return name
}

/**
 * The names each connection has prepared, as far as this process knows: a name joins its
 * connection's set when a pipeline that parsed it has succeeded, and leaves it when any
 * pipeline that used it has failed. A failed pipeline may have been cut short before its
 * Parse ran (Postgres skips everything after an error up to the Sync), so a name it used
 * is not known to be there; it is closed and parsed again next time.
 */
const preparedOn = new WeakMap<object, Set<string>>()

/**
 * Postgres's errors that mean a named statement is not what the pipeline took it to be:
 * gone from the server connection (26000: DEALLOCATE, a pooler that gave this client
 * another server connection), or planned for columns a migration has since changed
 * (0A000, "cached plan must not change result type", a `*` over an altered table). The
 * pipeline's implicit transaction rolled back, nothing of it was kept, and its names have
 * been forgotten, so it is sent once more, parsing them again.
 */
function isStaleStatement(error: unknown) {
  if (!(error instanceof pg.DatabaseError)) return false
  // The routine that raises it, not its message, which follows lc_messages.
  return (
    error.code === '26000' || (error.code === '0A000' && error.routine === 'RevalidateCachedQuery')
  )
}

interface PipelineMessage {
  text: string
  values: (string | Buffer | null)[]
}

/**
 * The settings statement and `statements`, their values mapped as node-postgres maps any
 * query's (`prepareValue`): a value it cannot send throws here, before anything is sent.
 */
function pipelineMessages(
  settingsStatement: string,
  settings: TransactionSettings,
  statements: readonly PipelinedStatement[],
): PipelineMessage[] {
  return [
    { text: settingsStatement, values: SETTINGS.map(([, field]) => settings[field] ?? '') },
    ...statements.map(({ text, values }) => ({
      text,
      values: values.map((value) => pgUtils.prepareValue(value)),
    })),
  ]
}

/**
 * The settings and a write's statements (or a read's one) in one round trip: Parse, Bind,
 * Describe and Execute of each, after the settings statement's, and one Sync. Postgres
 * runs them in one implicit transaction, committed at the Sync; after an error it skips
 * everything up to the Sync and rolls the transaction back, so the statements commit all
 * together or not at all, and the settings (transaction-local) end with them either way.
 *
 * Named, each statement is parsed (and planned) once per connection: a name not known to
 * be prepared there is closed (not an error if absent) and parsed, then bound; a known one
 * is only bound. Parsing and planning were most of what Postgres spent on a keyed create
 * (docs/benchmarks.md, 2026-12-05).
 */
class StatementsWithSettings extends PgQuery {
  readonly #messages: PipelineMessage[]
  readonly #used: { prepared?: Set<string>; names: string[] }
  readonly #named: boolean

  constructor(
    messages: PipelineMessage[],
    named: boolean,
    callback: (error: Error | null, results: pg.QueryResult[]) => void,
  ) {
    const used: { prepared?: Set<string>; names: string[] } = { names: [] }
    // The text is every statement's, as the wire carries them: what tracing (OpenTelemetry's
    // pg instrumentation reads it) and logs show. prepare() below writes the messages.
    super({
      text: messages.map((message) => message.text).join('; '),
      queryMode: 'extended',
      callback: (error: Error | null, results: pg.QueryResult[]) => {
        const { prepared } = used
        if (prepared)
          for (const name of used.names) error ? prepared.delete(name) : prepared.add(name)
        callback(error, results)
      },
    } as pg.QueryConfig)
    this.#used = used
    this.#named = named
    this.#messages = messages
  }

  override prepare(connection: WireConnection) {
    let prepared: Set<string> | undefined
    if (this.#named) {
      prepared = preparedOn.get(connection)
      if (!prepared) {
        prepared = new Set()
        preparedOn.set(connection, prepared)
      }
      this.#used.prepared = prepared
    }
    for (const { text, values } of this.#messages) {
      const name = prepared && statementName(text)
      if (name === undefined) {
        connection.parse({ text })
        connection.bind({ values })
      } else {
        if (!prepared?.has(name)) {
          connection.close({ type: 'S', name })
          connection.parse({ text, name })
        }
        connection.bind({ values, statement: name })
        this.#used.names.push(name)
      }
      connection.describe({ type: 'P', name: '' })
      connection.execute({ portal: '' })
    }
    connection.sync()
  }
}

/**
 * Sends `statements` with `settings` through `pool` in one round trip, as one implicit
 * transaction (above), and answers the rows of each statement. A statement that is not a
 * read or a write of rows is refused before anything is sent.
 */
export async function runStatementsWithSettings(
  pool: pg.Pool,
  settings: TransactionSettings,
  statements: readonly PipelinedStatement[],
): Promise<PipelinedRows> {
  if (statements.length === 0) throw new TypeError('a write sends at least one statement')
  for (const { text } of statements)
    if (!WRITE_STATEMENT.test(text))
      throw new TypeError(
        `a write in one round trip carries SELECT, WITH, INSERT, UPDATE or DELETE statements only, not: ${text.slice(0, 60)}`,
      )
  if (openRead())
    throw new TypeError(
      'readWithTenant carries one read, and this is a write: send it after the read, or use withTenant',
    )
  // Inside a transaction's callback it would run beside the transaction, on another
  // connection, committing (and marking a held claim) whatever the transaction does.
  if (pending.getStore()?.running)
    throw new TypeError(
      'a write in one round trip inside a withTenant, withUser or withNoContext transaction would commit apart from it: write through the transaction, or after it',
    )
  // Before a connection is taken: a value node-postgres cannot send throws here.
  const messages = pipelineMessages(WRITE_SETTINGS_STATEMENT, settings, statements)
  const results = await runPipeline(pool, messages)
  // One result per statement, the settings' first; node-postgres starts a new result at
  // each statement's row description or completion.
  return results.slice(1).map((result) => result.rows)
}

/**
 * Sends one read (SELECT or WITH) with `settings` through `pool` in one round trip: the
 * settings, read-only mode and the read in one pipeline, as a write's (above), and answers
 * the read's rows. Named as a write's statements are (docs/decisions/049), and sent once
 * more after a stale name, which a read can always be: it changed nothing.
 */
export async function runReadWithSettings(
  pool: pg.Pool,
  settings: TransactionSettings,
  statement: PipelinedStatement,
): Promise<Record<string, unknown>[]> {
  if (!isReadStatement(statement.text))
    throw new TypeError(
      `a read in one round trip carries one SELECT or WITH statement, not: ${statement.text.slice(0, 60)}`,
    )
  // Beside the transaction, on another connection: it would not see the transaction's
  // own writes, and on a pool of one it would wait for the transaction's connection.
  if (pending.getStore()?.running)
    throw new TypeError(
      'a read in one round trip inside a withTenant, withUser or withNoContext transaction would read apart from it: read through the transaction',
    )
  const messages = pipelineMessages(SETTINGS_STATEMENT, settings, [statement])
  const results = await runPipeline(pool, messages)
  return results[1]?.rows ?? []
}

/**
 * Sends a pipeline's messages (the settings statement's first) through `pool` on one
 * connection and answers node-postgres's result of each. Named when the pool's
 * `namedStatements` is on (any other pool: always), and sent once more when a name turned
 * out stale (`isStaleStatement`).
 */
async function runPipeline(pool: pg.Pool, messages: PipelineMessage[]): Promise<pg.QueryResult[]> {
  const named = !(pool instanceof TransactionSettingsPool) || pool.namedStatements
  // A connection of its own rather than pool.query, which ends the connection after any
  // error: a statement Postgres refused (a duplicate name, a quota) leaves the connection
  // as good as before once the Sync is answered, and a hot path must not pay a new
  // connection for each refusal. An error that ends the session (severity FATAL or
  // PANIC: a terminated backend, a server shutting down, PgBouncer giving up) or one of
  // the connection itself ends it. While it is borrowed the pool does not listen to it, so
  // this does: an 'error' event nobody hears would end the process.
  const client = await pool.connect()
  let broken: Error | undefined
  const onError = (error: Error) => {
    broken ??= error
  }
  client.on('error', onError)
  const send = () =>
    new Promise<pg.QueryResult[]>((resolve, reject) => {
      const answer = (error: Error | null, results: pg.QueryResult[]) =>
        error ? reject(error) : resolve(results)
      client.query(new StatementsWithSettings(messages, named, answer) as unknown as pg.Submittable)
    })
  let results: pg.QueryResult[]
  try {
    try {
      results = await send()
    } catch (error) {
      // Rolled back whole, its names forgotten: once more, parsing them again.
      if (!named || broken || !isStaleStatement(error)) throw error
      results = await send()
    }
  } catch (error) {
    // The severity as the server words it: under a non-English lc_messages every error
    // ends its connection, which is safe, only slower.
    const refused = error instanceof pg.DatabaseError && error.severity === 'ERROR'
    client.off('error', onError)
    client.release(refused && !broken ? undefined : (broken ?? (error as Error)))
    throw error
  }
  client.off('error', onError)
  client.release(broken)
  return results
}
