import { AsyncLocalStorage } from 'node:async_hooks'
import pg from 'pg'

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
 * Settings on their way to the BEGIN of the transaction about to start: `waiting` until a
 * BEGIN carries them, `sent` once one has, `closed` from the moment the transaction's own
 * code runs, so no later BEGIN in the same async context (a nested transaction) takes them.
 */
interface Pending {
  settings: TransactionSettings
  state: 'waiting' | 'sent' | 'closed'
}

const pending = new AsyncLocalStorage<Pending>()

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
  const store: Pending = { settings, state: 'waiting' }
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
    if (store?.state === 'waiting' && values === undefined && callback === undefined) {
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
