import { Prisma } from '@repo/db'
import { AppError } from './app-error.ts'

/** `?limit=&cursor=` as every list takes it; limit is bounded by the route schema. */
export interface PageRequest {
  limit: number
  cursor?: string | undefined
}

export interface Page<T> {
  data: T[]
  /** Pass as `cursor` for the next page; null on the last page. */
  nextCursor: string | null
}

/**
 * The order of a list: one field, then `id` in the same direction, so equal values never
 * skip or repeat rows between pages. `values` ranks an enum field (declaration order, as
 * Postgres sorts enums); `nullable` fields sort as Postgres does: nulls last ascending,
 * first descending.
 */
export interface SortOrder {
  field: string
  direction: 'asc' | 'desc'
  kind: 'date' | 'string' | 'enum'
  values?: readonly string[]
  nullable?: boolean
}

type SortValue = Date | string | null
type Row = { id: string } & Record<string, unknown>

export const CREATED_AT: SortOrder = { field: 'createdAt', direction: 'asc', kind: 'date' }
export const NEWEST_FIRST: SortOrder = { ...CREATED_AT, direction: 'desc' }

/** Parses `name` or `-name` (descending) from a route's `?sort=` into a SortOrder. */
export function sortOrder(sort: string, fields: Record<string, Omit<SortOrder, 'direction'>>) {
  const descending = sort.startsWith('-')
  const name = descending ? sort.slice(1) : sort
  // Own fields only: `constructor` or `toString` is no sort.
  const spec = Object.hasOwn(fields, name) ? fields[name] : undefined
  if (!spec) throw new Error(`unknown sort ${sort}`)
  return { ...spec, direction: descending ? 'desc' : 'asc' } as SortOrder
}

const invalidCursor = () =>
  new AppError({
    code: 'invalid_cursor',
    status: 400,
    userMessage: 'The cursor is not valid; start again without one.',
    fields: [{ field: 'querystring.cursor', message: 'is not valid' }],
  })

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i

const sortName = (order: SortOrder) => `${order.direction === 'desc' ? '-' : ''}${order.field}`

/** Opaque to clients: base64url of the sort it belongs to and the last row's key. */
export function encodeCursor(row: Row, order: SortOrder = CREATED_AT): string {
  const value = row[order.field] as SortValue
  const key = value instanceof Date ? value.toISOString() : value
  return Buffer.from(JSON.stringify([sortName(order), key, row.id])).toString('base64url')
}

function decodeCursor(cursor: string, order: SortOrder): { value: SortValue; id: string } {
  try {
    const [sort, key, id] = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'))
    // A cursor from another sort would silently skip rows: refuse it instead.
    if (sort !== sortName(order) || typeof id !== 'string' || !UUID.test(id))
      throw new Error('shape')
    if (key === null) {
      if (!order.nullable) throw new Error('null')
      return { value: null, id }
    }
    // Forged values must not reach Postgres as something it refuses (a 500): bounded
    // text without control characters, dates within Postgres's years.
    // biome-ignore lint/suspicious/noControlCharactersInRegex: refusing control characters is the point
    if (typeof key !== 'string' || key.length > 1_000 || /[\u0000-\u001f]/.test(key))
      throw new Error('key')
    if (order.kind === 'date') {
      const date = new Date(key)
      const year = date.getUTCFullYear()
      if (Number.isNaN(date.getTime()) || year < 1 || year > 9999) throw new Error('date')
      return { value: date, id }
    }
    if (order.kind === 'enum' && !order.values?.includes(key)) throw new Error('enum')
    return { value: key, id }
  } catch {
    throw invalidCursor()
  }
}

/** The filter for "sorts after `value`" in the list's direction, enums by rank. */
function beyond(order: SortOrder, value: Date | string) {
  const forward = order.direction === 'asc'
  if (order.kind === 'enum') {
    const values = order.values ?? []
    const rank = values.indexOf(value as string)
    return { in: forward ? values.slice(rank + 1) : values.slice(0, rank) }
  }
  return { [forward ? 'gt' : 'lt']: value }
}

/**
 * Prisma arguments for one page in a stable order (keyset pagination): one row more than
 * asked, to know if more follow. Spread `where` into the query's own filter (it uses
 * only `AND`).
 */
export interface PageQuery {
  take: number
  orderBy: Array<Record<string, 'asc' | 'desc'>>
  /**
   * Built per field at run time, so typed as fitting any model's filter (`never[]`); the
   * model's own query, and the tests of every list, check the shape.
   */
  where: { AND?: never[] }
}

export function pageQuery(page: PageRequest, order: SortOrder = CREATED_AT): PageQuery {
  const { field, direction } = order
  const orderBy = [{ [field]: direction }, { id: direction }]
  if (!page.cursor) return { take: page.limit + 1, orderBy, where: {} }
  const after = decodeCursor(page.cursor, order)
  const idBeyond = { [direction === 'asc' ? 'gt' : 'lt']: after.id }
  const forward = direction === 'asc'
  let OR: object[]
  const AND: object[] = []
  if (after.value === null) {
    // Nulls come last ascending (only more nulls follow), first descending (then the rest).
    OR = [{ [field]: null, id: idBeyond }, ...(forward ? [] : [{ NOT: { [field]: null } }])]
  } else {
    OR = [
      { [field]: beyond(order, after.value) },
      { [field]: after.value, id: idBeyond },
      ...(order.nullable && forward ? [{ [field]: null }] : []),
    ]
    // The same bound on the field alone, redundant with the OR: Postgres starts the index
    // scan at the cursor with it, and without it reads and drops every row before the
    // cursor (a page deep in a long list cost as much as the rows before it). Not for
    // enums (their comparisons are not leakproof: under row-level security Postgres may
    // not use them in an index scan) nor where nulls follow (they are beyond any value).
    if (order.kind !== 'enum' && !(order.nullable && forward))
      AND.push({ [field]: { [forward ? 'gte' : 'lte']: after.value } })
  }
  AND.push({ OR })
  return { take: page.limit + 1, orderBy, where: { AND: AND as never[] } }
}

/** pageQuery as SQL: the keyset condition (undefined on a first page), the order, the limit. */
export interface PageSql {
  where: Prisma.Sql | undefined
  orderBy: Prisma.Sql
  limit: number
}

/**
 * pageQuery's page as SQL, for a list read through readSqlWithTenant (docs/decisions/048):
 * the same rows in the same order, cursor for cursor, which the list's tests check
 * against the Prisma form. `column` is the sort field's column, from the list's own fixed
 * map (never from input); `id` breaks ties. Fields that are never null, sorted as dates
 * or text: a nullable or enum order has no SQL form yet, and is refused.
 */
export function pageSql(page: PageRequest, order: SortOrder, column: Prisma.Sql): PageSql {
  if (order.nullable || order.kind === 'enum')
    throw new TypeError(`pageSql: ${order.field} sorts as a nullable or enum field; use pageQuery`)
  const forward = order.direction === 'asc'
  const direction = Prisma.raw(forward ? 'ASC' : 'DESC')
  const orderBy = Prisma.sql`${column} ${direction}, id ${direction}`
  const limit = page.limit + 1
  if (!page.cursor) return { where: undefined, orderBy, limit }
  const after = decodeCursor(page.cursor, order)
  const value =
    after.value instanceof Date
      ? Prisma.sql`${after.value.toISOString()}::timestamptz`
      : Prisma.sql`${after.value}::text`
  const id = Prisma.sql`${after.id}::uuid`
  const beyond = Prisma.raw(forward ? '>' : '<')
  // The bound on the field alone is redundant with the OR, as in pageQuery: with it,
  // Postgres starts the index scan at the cursor instead of reading every row before it.
  const bound = Prisma.raw(forward ? '>=' : '<=')
  const where = Prisma.sql`${column} ${bound} ${value}
    AND (${column} ${beyond} ${value} OR (${column} = ${value} AND id ${beyond} ${id}))`
  return { where, orderBy, limit }
}

export function toPage<T extends Row>(
  rows: T[],
  page: PageRequest,
  order: SortOrder = CREATED_AT,
): Page<T> {
  const data = rows.slice(0, page.limit)
  const last = data.at(-1)
  return {
    data,
    nextCursor: rows.length > page.limit && last ? encodeCursor(last, order) : null,
  }
}
