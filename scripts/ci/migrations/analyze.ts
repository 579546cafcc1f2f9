// The destructive-change gate's judgement: which statements of a migration destroy data or
// break the release that is still running while (and after) the migration applies. Every
// statement goes through PostgreSQL's own parser (libpg-query, compiled to WebAssembly), so
// comments, quoting, casing and multi-command ALTERs are read the way the server reads them.
import type {
  AlterTableCmd,
  AlterTableStmt,
  ColumnDef,
  Constraint,
  DeleteStmt,
  DoStmt,
  DropStmt,
  IndexStmt,
  Node,
  RangeVar,
  RawStmt,
  RenameStmt,
} from 'libpg-query'
import { parse, parsePlPgSQL } from 'libpg-query'
import { Catalog, type Column, columnType, formatType, isWidening } from './catalog.ts'

export interface Migration {
  /** The migration's directory name, e.g. 20261201090000_batched_removals */
  name: string
  sql: string
}

export type FindingKind =
  | 'drop'
  | 'drop-column'
  | 'drop-unique'
  | 'rename'
  | 'type-change'
  | 'set-not-null'
  | 'not-null-without-default'
  | 'drop-default'
  | 'truncate'
  | 'delete-all'
  | 'unverifiable'
  | 'parse-error'

export interface Finding {
  migration: string
  /** 1-based line of the statement in migration.sql */
  line: number
  kind: FindingKind
  message: string
}

interface Context {
  catalog: Catalog
  /** Tables created by the migrations being checked: no running code uses them yet. */
  created: Set<string>
  report?: (kind: FindingKind, message: string) => void
}

// Objects whose removal breaks a release that still uses them (the previous release keeps
// running until the rollout ends, and again after a rollback).
const DROPPED: Record<string, string> = {
  OBJECT_TABLE: 'table',
  OBJECT_SCHEMA: 'schema',
  OBJECT_VIEW: 'view',
  OBJECT_MATVIEW: 'materialized view',
  OBJECT_FUNCTION: 'function',
  OBJECT_PROCEDURE: 'procedure',
  OBJECT_TYPE: 'type',
  OBJECT_DOMAIN: 'domain',
  OBJECT_SEQUENCE: 'sequence',
}
const RENAMED: Record<string, string> = {
  ...DROPPED,
  OBJECT_COLUMN: 'column',
  OBJECT_ATTRIBUTE: 'attribute',
}

function unwrap(node: Node | undefined): [string, unknown] {
  const [entry] = Object.entries(node ?? {})
  return entry ?? ['', undefined]
}

function tableKey(relation: RangeVar | undefined): string {
  return `${relation?.schemaname ?? 'public'}.${relation?.relname ?? ''}`
}

function objectName(node: Node | undefined): string {
  const [kind, value] = unwrap(node)
  if (kind === 'String') return (value as { sval?: string }).sval ?? ''
  if (kind === 'List')
    return ((value as { items?: Node[] }).items ?? []).map(objectName).filter(Boolean).join('.')
  if (kind === 'ObjectWithArgs')
    return objectName({ List: { items: (value as { objname?: Node[] }).objname ?? [] } })
  if (kind === 'TypeName') return formatType(columnType(value as never))
  return ''
}

function constraintsOf(def: ColumnDef): Constraint[] {
  return (def.constraints ?? []).map((node) => unwrap(node)[1] as Constraint)
}

function columnOf(def: ColumnDef): Column {
  const types = constraintsOf(def).map((constraint) => constraint.contype)
  return {
    type: columnType(def.typeName),
    notNull: types.includes('CONSTR_NOTNULL') || types.includes('CONSTR_PRIMARY'),
  }
}

/** NOT NULL (or a primary key) with nothing to fill existing rows and older inserts. */
function needsValue(def: ColumnDef): boolean {
  const types = constraintsOf(def).map((constraint) => constraint.contype)
  const filled =
    types.includes('CONSTR_DEFAULT') ||
    types.includes('CONSTR_IDENTITY') ||
    types.includes('CONSTR_GENERATED') ||
    /serial$/i.test(objectName({ List: { items: def.typeName?.names ?? [] } }))
  return columnOf(def).notNull && !filled
}

function rememberConstraint(catalog: Catalog, constraint: Constraint) {
  if (!constraint.conname) return
  const unique = ['CONSTR_PRIMARY', 'CONSTR_UNIQUE', 'CONSTR_EXCLUSION'].includes(
    constraint.contype ?? '',
  )
  catalog.constraints.set(constraint.conname, unique)
}

function alterTable(statement: AlterTableStmt, context: Context) {
  const table = tableKey(statement.relation)
  const isNew = context.created.has(table)
  const report = isNew ? undefined : context.report
  for (const node of statement.cmds ?? []) {
    const cmd = unwrap(node)[1] as AlterTableCmd
    const column = cmd.name ?? ''
    const known = context.catalog.column(table, column)
    switch (cmd.subtype) {
      case 'AT_DropColumn':
        report?.(
          'drop-column',
          `drops column ${table}.${column}: its data is gone, and the running release may still read or write it`,
        )
        context.catalog.tables.get(table)?.delete(column)
        break
      case 'AT_AddColumn': {
        const def = unwrap(cmd.def)[1] as ColumnDef
        if (needsValue(def))
          report?.(
            'not-null-without-default',
            `adds ${table}.${def.colname} NOT NULL without a default: fails on existing rows, and inserts of the running release (which does not set it) fail`,
          )
        context.catalog.setColumn(table, def.colname ?? '', columnOf(def))
        for (const constraint of constraintsOf(def)) rememberConstraint(context.catalog, constraint)
        break
      }
      case 'AT_AlterColumnType': {
        const def = unwrap(cmd.def)[1] as ColumnDef
        const to = columnType(def.typeName)
        if (def.raw_default)
          report?.(
            'type-change',
            `changes the type of ${table}.${column} to ${formatType(to)} with USING: values are rewritten`,
          )
        else if (!known)
          report?.(
            'type-change',
            `changes the type of ${table}.${column} to ${formatType(to)}; its current type is not known from the migrations, so it cannot be shown to be a widening`,
          )
        else if (!isWidening(known.type, to))
          report?.(
            'type-change',
            `changes the type of ${table}.${column} from ${formatType(known.type)} to ${formatType(to)}: not a widening (values may not fit, and the running release may write values that no longer do)`,
          )
        context.catalog.setColumn(table, column, { type: to, notNull: known?.notNull ?? false })
        break
      }
      case 'AT_SetNotNull':
        if (!known?.notNull)
          report?.(
            'set-not-null',
            `sets ${table}.${column} NOT NULL: fails if a row holds NULL, and inserts of the running release that leave it NULL fail`,
          )
        if (known) known.notNull = true
        break
      case 'AT_DropNotNull':
        if (known) known.notNull = false
        break
      case 'AT_ColumnDefault':
        // Without a def, this is DROP DEFAULT.
        if (!cmd.def && (known?.notNull ?? true))
          report?.(
            'drop-default',
            `drops the default of ${table}.${column}${known ? ' (NOT NULL)' : ' (nullability unknown)'}: inserts of the running release that rely on it fail`,
          )
        break
      case 'AT_AddConstraint': {
        const constraint = unwrap(cmd.def)[1] as Constraint
        if (constraint.contype === 'CONSTR_NOTNULL')
          report?.(
            'set-not-null',
            `adds a NOT NULL constraint to ${table}: fails if a row holds NULL, and inserts of the running release that leave it NULL fail`,
          )
        rememberConstraint(context.catalog, constraint)
        break
      }
      case 'AT_DropConstraint': {
        const unique = context.catalog.constraints.get(column)
        if (unique !== false)
          report?.(
            'drop-unique',
            unique
              ? `drops constraint ${column} on ${table}, which enforces uniqueness: duplicates get in and ON CONFLICT on it fails in the running release`
              : `drops constraint ${column} on ${table}, which the migrations do not show (it may enforce uniqueness)`,
          )
        context.catalog.constraints.delete(column)
        break
      }
    }
  }
}

function drop(statement: DropStmt, context: Context) {
  const names = (statement.objects ?? []).map(objectName)
  const removeType = statement.removeType ?? ''
  if (removeType === 'OBJECT_INDEX') {
    for (const name of names) {
      const index = name.split('.').at(-1) ?? name
      if (context.catalog.uniqueIndexes.has(index))
        context.report?.(
          'drop-unique',
          `drops unique index ${name}: duplicates get in and ON CONFLICT on it fails in the running release`,
        )
      context.catalog.uniqueIndexes.delete(index)
    }
    return
  }
  const what = DROPPED[removeType]
  if (!what) return
  for (const name of names) {
    const key = removeType === 'OBJECT_TABLE' && !name.includes('.') ? `public.${name}` : name
    if (removeType === 'OBJECT_TABLE' && context.created.has(key)) continue
    context.report?.(
      'drop',
      `drops ${what} ${name}: ${removeType === 'OBJECT_TABLE' || removeType === 'OBJECT_SCHEMA' ? 'its data is gone, and ' : ''}the running release may still use it`,
    )
    if (removeType === 'OBJECT_TABLE') context.catalog.tables.delete(key)
  }
}

function rename(statement: RenameStmt, context: Context) {
  const what = RENAMED[statement.renameType ?? '']
  if (!what) return
  const table = statement.relation ? tableKey(statement.relation) : ''
  if (table && context.created.has(table)) return
  const from = statement.relation
    ? `${table}${statement.subname ? `.${statement.subname}` : ''}`
    : objectName(statement.object)
  context.report?.(
    'rename',
    `renames ${what} ${from} to ${statement.newname}: the running release still uses the old name`,
  )
  if (statement.renameType === 'OBJECT_COLUMN' && statement.subname && statement.newname) {
    const column = context.catalog.column(table, statement.subname)
    if (column) context.catalog.setColumn(table, statement.newname, column)
  }
}

async function doBlock(statement: DoStmt, context: Context) {
  let language = 'plpgsql'
  let body = ''
  for (const node of statement.args ?? []) {
    const arg = unwrap(node)[1] as { defname?: string; arg?: Node }
    if (arg.defname === 'language') language = objectName(arg.arg)
    if (arg.defname === 'as') body = objectName(arg.arg)
  }
  if (language.toLowerCase() !== 'plpgsql') {
    context.report?.('unverifiable', `runs a DO block in ${language}, which the gate cannot read`)
    return
  }
  const tree = await parsePlPgSQL(
    `CREATE FUNCTION gw_do_block() RETURNS void LANGUAGE plpgsql AS $gw_do$${body}$gw_do$`,
  )
  // Every SQL statement the block runs, at any depth (IF, LOOP, nested blocks).
  const pending: unknown[] = [tree]
  while (pending.length) {
    const value = pending.pop()
    if (!value || typeof value !== 'object') continue
    for (const [key, child] of Object.entries(value)) {
      if (key === 'PLpgSQL_stmt_execsql') {
        const query = (child as { sqlstmt?: { PLpgSQL_expr?: { query?: string } } }).sqlstmt
          ?.PLpgSQL_expr?.query
        if (query) await check(query, context)
      } else if (key === 'PLpgSQL_stmt_dynexecute') {
        const query = (child as { query?: { PLpgSQL_expr?: { query?: string } } }).query
          ?.PLpgSQL_expr?.query
        const literal = /^'((?:[^']|'')*)'$/s.exec(query ?? '')
        if (literal?.[1] !== undefined) await check(literal[1].replaceAll("''", "'"), context)
        else
          context.report?.(
            'unverifiable',
            `runs dynamic SQL that the gate cannot read: EXECUTE ${(query ?? '').length > 70 ? `${query?.slice(0, 70)}...` : query}`,
          )
      } else pending.push(child)
    }
  }
}

async function statement(node: Node | undefined, context: Context) {
  const [kind, value] = unwrap(node)
  switch (kind) {
    case 'CreateStmt': {
      const create = value as { relation?: RangeVar; tableElts?: Node[] }
      const table = tableKey(create.relation)
      context.created.add(table)
      context.catalog.tables.set(table, new Map())
      for (const element of create.tableElts ?? []) {
        const [elementKind, elementValue] = unwrap(element)
        if (elementKind === 'ColumnDef') {
          const def = elementValue as ColumnDef
          context.catalog.setColumn(table, def.colname ?? '', columnOf(def))
          for (const constraint of constraintsOf(def))
            rememberConstraint(context.catalog, constraint)
        } else if (elementKind === 'Constraint')
          rememberConstraint(context.catalog, elementValue as Constraint)
      }
      return
    }
    case 'IndexStmt': {
      const index = value as IndexStmt
      if (index.unique && index.idxname) context.catalog.uniqueIndexes.add(index.idxname)
      return
    }
    case 'AlterTableStmt':
      return alterTable(value as AlterTableStmt, context)
    case 'DropStmt':
      return drop(value as DropStmt, context)
    case 'RenameStmt':
      return rename(value as RenameStmt, context)
    case 'AlterObjectSchemaStmt': {
      const moved = value as { relation?: RangeVar; object?: Node; newschema?: string }
      const name = moved.relation ? tableKey(moved.relation) : objectName(moved.object)
      if (!context.created.has(name))
        context.report?.(
          'rename',
          `moves ${name} to schema ${moved.newschema}: the running release still uses the old name`,
        )
      return
    }
    case 'AlterEnumStmt': {
      const alter = value as { typeName?: Node[]; oldVal?: string; newVal?: string }
      if (alter.oldVal)
        context.report?.(
          'rename',
          `renames value '${alter.oldVal}' of enum ${objectName({ List: { items: alter.typeName ?? [] } })} to '${alter.newVal}': the running release still writes the old value`,
        )
      return
    }
    case 'TruncateStmt': {
      const relations = ((value as { relations?: Node[] }).relations ?? []).map((relation) =>
        tableKey(unwrap(relation)[1] as RangeVar),
      )
      const existing = relations.filter((table) => !context.created.has(table))
      if (existing.length)
        context.report?.('truncate', `truncates ${existing.join(', ')}: every row is gone`)
      return
    }
    case 'DeleteStmt': {
      const remove = value as DeleteStmt
      const table = tableKey(remove.relation)
      if (!remove.whereClause && !context.created.has(table))
        context.report?.('delete-all', `deletes every row of ${table} (DELETE without WHERE)`)
      return
    }
    case 'DoStmt':
      return doBlock(value as DoStmt, context)
  }
}

async function check(sql: string, context: Context) {
  const tree = await parse(sql)
  for (const raw of tree.stmts ?? []) await statement(raw.stmt, context)
}

function lineAt(sql: string, offset: number): number {
  let line = 1
  for (let i = 0; i < offset && i < sql.length; i++) if (sql[i] === '\n') line++
  return line
}

/** Where a statement's text starts (after the comments and blank lines before it). */
function statementStart(sql: string, raw: RawStmt): number {
  const start = raw.stmt_location ?? 0
  const text = sql.slice(start, start + (raw.stmt_len ?? sql.length - start))
  const lead = /^(?:\s+|--[^\n]*\n?|\/\*[\s\S]*?\*\/)*/.exec(text)?.[0].length ?? 0
  return start + lead
}

/**
 * Checks `migrations` (oldest first) against the schema `history` (the migrations before
 * them, oldest first) leaves behind. Returns every finding, in order.
 */
export async function analyze(migrations: Migration[], history: Migration[]): Promise<Finding[]> {
  const context: Context = { catalog: new Catalog(), created: new Set() }
  for (const migration of history) {
    try {
      await check(migration.sql, context)
    } catch {
      // Applied long ago; what the gate cannot read there only makes it more cautious.
    }
  }
  context.created.clear()
  const findings: Finding[] = []
  for (const migration of migrations) {
    let tree: Awaited<ReturnType<typeof parse>>
    try {
      tree = await parse(migration.sql)
    } catch (error) {
      const position = (error as { sqlDetails?: { cursorPosition?: number } }).sqlDetails
        ?.cursorPosition
      findings.push({
        migration: migration.name,
        line: lineAt(migration.sql, position ?? 0),
        kind: 'parse-error',
        message: `does not parse as PostgreSQL: ${error instanceof Error ? error.message : String(error)}`,
      })
      continue
    }
    for (const raw of tree.stmts ?? []) {
      const line = lineAt(migration.sql, statementStart(migration.sql, raw))
      const report = (kind: FindingKind, message: string) =>
        findings.push({ migration: migration.name, line, kind, message })
      context.report = report
      try {
        await statement(raw.stmt, context)
      } catch (error) {
        report(
          'unverifiable',
          `cannot be read: ${error instanceof Error ? error.message : String(error)}`,
        )
      }
    }
    context.report = undefined
  }
  return findings
}
