// What the migrations before the ones being checked left in the database, as far as the
// destructive-change gate needs it: column types and nullability (is a type change a
// widening? does a dropped default matter?), and which indexes and constraints enforce
// uniqueness (dropping one breaks ON CONFLICT and lets duplicates in).
import type { TypeName } from 'libpg-query'

/** A column type as the parser spells it: `int4`, `varchar` with modifiers `[255]`, ... */
export interface ColumnType {
  name: string
  mods: number[]
  array: boolean
}

export interface Column {
  type: ColumnType
  notNull: boolean
}

export class Catalog {
  /** `schema.table` -> column -> type */
  readonly tables = new Map<string, Map<string, Column>>()
  /** Index names (schema-less, as Postgres keeps them per schema) that are UNIQUE. */
  readonly uniqueIndexes = new Set<string>()
  /** Constraint names -> whether it enforces uniqueness (primary key, unique, exclusion). */
  readonly constraints = new Map<string, boolean>()

  column(table: string, column: string): Column | undefined {
    return this.tables.get(table)?.get(column)
  }

  setColumn(table: string, column: string, value: Column) {
    let columns = this.tables.get(table)
    if (!columns) {
      columns = new Map()
      this.tables.set(table, columns)
    }
    columns.set(column, value)
  }
}

// The parser spells built-in types by their internal names (INTEGER -> int4); aliases
// that reach it as written are mapped here.
const ALIASES: Record<string, string> = {
  integer: 'int4',
  int: 'int4',
  smallint: 'int2',
  bigint: 'int8',
  real: 'float4',
  'double precision': 'float8',
  decimal: 'numeric',
  'character varying': 'varchar',
  character: 'bpchar',
  char: 'bpchar',
  serial: 'int4',
  bigserial: 'int8',
  smallserial: 'int2',
}

export function columnType(typeName: TypeName | undefined): ColumnType {
  const names = (typeName?.names ?? []).map((part) => ('String' in part ? part.String.sval : ''))
  const last = (names.at(-1) ?? '').toLowerCase()
  return {
    name: ALIASES[last] ?? last,
    // An absent ival is 0 in the parser's JSON (protobuf drops zero values).
    mods: (typeName?.typmods ?? []).map((mod) =>
      'A_Const' in mod ? (mod.A_Const.ival?.ival ?? 0) : 0,
    ),
    array: (typeName?.arrayBounds?.length ?? 0) > 0,
  }
}

export function formatType(type: ColumnType): string {
  return `${type.name}${type.mods.length ? `(${type.mods.join(',')})` : ''}${type.array ? '[]' : ''}`
}

const INTEGER_RANK: Record<string, number> = { int2: 1, int4: 2, int8: 3 }
const FLOAT_RANK: Record<string, number> = { float4: 1, float8: 2 }
const STRING_TYPES = new Set(['varchar', 'text'])
const PRECISION_TYPES = new Set(['timestamp', 'timestamptz', 'time', 'timetz'])

/**
 * True only when every value of `from` is a value of `to`, unchanged: a larger integer or
 * float, a longer or unbounded varchar, text, more numeric digits on both sides of the
 * point, more fractional seconds. Anything else (or an array change) needs approval.
 */
export function isWidening(from: ColumnType, to: ColumnType): boolean {
  if (from.array !== to.array) return false
  const [fromMod, toMod] = [from.mods[0], to.mods[0]]
  if (from.name in INTEGER_RANK && to.name in INTEGER_RANK)
    return (INTEGER_RANK[to.name] ?? 0) >= (INTEGER_RANK[from.name] ?? 0)
  if (from.name in FLOAT_RANK && to.name in FLOAT_RANK)
    return (FLOAT_RANK[to.name] ?? 0) >= (FLOAT_RANK[from.name] ?? 0)
  if (STRING_TYPES.has(from.name) && STRING_TYPES.has(to.name)) {
    if (to.name === 'text' || toMod === undefined) return true
    return from.name === 'varchar' && fromMod !== undefined && toMod >= fromMod
  }
  if (from.name === 'numeric' && to.name === 'numeric') {
    if (to.mods.length === 0) return true
    if (from.mods.length === 0) return false
    const [fromPrecision = 0, fromScale = 0] = from.mods
    const [toPrecision = 0, toScale = 0] = to.mods
    return toScale >= fromScale && toPrecision - toScale >= fromPrecision - fromScale
  }
  if (from.name === to.name && PRECISION_TYPES.has(from.name)) {
    // Unset precision is the maximum (6).
    return (toMod ?? 6) >= (fromMod ?? 6)
  }
  return false
}
