import { PrismaPg } from '@prisma/adapter-pg'
import {
  ColumnTypeEnum,
  type SqlDriverAdapter,
  type SqlQueryable,
} from '@prisma/driver-adapter-utils'
import pg from 'pg'

// The schema engine describes Postgres through pg_catalog, whose `"char"` columns (oid 18,
// e.g. pg_constraint.contype) @prisma/adapter-pg rejects ("Column type 'char' could not be
// deserialized"), while the describer needs them typed as Character (typing them as text
// makes it panic). Two steps fix it: the pg client reports oid 18 as text and tags the
// column name; the adapter's queryRaw strips the tag and sets the Character type.
const CHAR_OID = 18
const TEXT_OID = 25
const CHAR_TAG = '\u0000"char"'

type PgResult = { fields?: { dataTypeID: number; name: string }[] }

function tagCharFields<T>(result: T): T {
  for (const r of (Array.isArray(result) ? result : [result]) as PgResult[]) {
    for (const field of r?.fields ?? []) {
      if (field.dataTypeID === CHAR_OID) {
        field.dataTypeID = TEXT_OID
        field.name += CHAR_TAG
      }
    }
  }
  return result
}

type QueryFn = (...args: unknown[]) => unknown

class CatalogSafeClient extends pg.Client {
  // Covers promise-style calls and the callback style pg.Pool uses internally.
  // biome-ignore lint/suspicious/noExplicitAny: overrides pg's heavily overloaded query signature
  override query(...args: unknown[]): any {
    const base = super.query as unknown as QueryFn
    const callback = args.at(-1)
    if (typeof callback === 'function') {
      args[args.length - 1] = (err: Error | null, res: unknown) =>
        callback(err, err ? res : tagCharFields(res))
      return base.apply(this, args)
    }
    const ret = base.apply(this, args) as Promise<unknown> | undefined
    return ret && typeof ret.then === 'function' ? ret.then(tagCharFields) : ret
  }
}

function restoreCharColumns<T extends SqlQueryable>(queryable: T): T {
  const queryRaw = queryable.queryRaw.bind(queryable)
  queryable.queryRaw = async (query) => {
    const result = await queryRaw(query)
    result.columnNames.forEach((name, i) => {
      if (!name.endsWith(CHAR_TAG)) return
      result.columnNames[i] = name.slice(0, -CHAR_TAG.length)
      result.columnTypes[i] = ColumnTypeEnum.Character
    })
    return result
  }
  return queryable
}

/**
 * @prisma/adapter-pg runs a migration script by splitting it on every `;`, which breaks
 * dollar-quoted function bodies and comments that contain one. Postgres's simple query
 * protocol runs a multi-statement script as it is, so send it whole; errors still go
 * through the adapter's own mapping.
 */
function runScriptsWhole(adapter: SqlDriverAdapter): void {
  const internals = adapter as unknown as { client: pg.Pool; onError(error: unknown): never }
  adapter.executeScript = async (script) => {
    try {
      await internals.client.query(script)
    } catch (error) {
      internals.onError(error)
    }
  }
}

/** A Prisma driver adapter connection the schema engine can use to describe Postgres. */
export async function connectForSchemaEngine(url: string): Promise<SqlDriverAdapter> {
  const adapter = restoreCharColumns(
    await new PrismaPg({ connectionString: url, Client: CatalogSafeClient }).connect(),
  )
  runScriptsWhole(adapter)
  const startTransaction = adapter.startTransaction.bind(adapter)
  adapter.startTransaction = async (isolationLevel) =>
    restoreCharColumns(await startTransaction(isolationLevel))
  return adapter
}
