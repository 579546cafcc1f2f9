import { Prisma, type ProjectStatus, readSqlWithTenant, type TenantContext } from '@repo/db'
import type { ProjectSortField } from '@repo/schemas'
import type { CoreDeps } from './context.ts'
import { type Page, type PageRequest, pageSql, sortOrder, toPage } from './pagination.ts'
import { PROJECT_SORTS, type ProjectView } from './project-fields.ts'

export interface ListProjectsInput extends PageRequest {
  status?: ProjectStatus | undefined
  /** Case-insensitive substring of the name. */
  search?: string | undefined
  /** A field of PROJECT_SORTS, prefixed `-` for descending; the route's schema checks it. */
  sort: string
}

/** Prisma passes `contains` to ILIKE as is: escape its wildcards so `%` and `_` match themselves. */
export const likeLiteral = (term: string) => term.replace(/[\\%_]/g, (c) => `\\${c}`)

/** The column of each sort field; a field added to PROJECT_SORTS fails to compile here. */
const SORT_COLUMNS = {
  createdAt: Prisma.raw('created_at'),
  name: Prisma.raw('name'),
} satisfies Record<ProjectSortField, Prisma.Sql>

/**
 * A timestamp as `Date.prototype.toISOString` writes it (UTC, milliseconds, `Z`), written
 * by Postgres: 102 `Date`s a page parsed by the driver and formatted back were a quarter to a third of
 * the route's CPU that was left (docs/decisions/048). Explicitly UTC, whatever the
 * session's time zone; the columns keep milliseconds (`Timestamptz(3)`).
 */
const iso = (column: string) =>
  `to_char(${column} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`

/** A project's columns as `projectView` answers them, named as its fields. */
const PROJECT_VIEW_COLUMNS = Prisma.raw(
  `id, name, description, status, version, ${iso('created_at')} AS "createdAt", ${iso('updated_at')} AS "updatedAt"`,
)

/**
 * A page of the organization's projects as callers see them (`projectView`, timestamps
 * as ISO 8601 strings), filtered and sorted; one query whatever the size,
 * sent with its tenant settings in one round trip. The busiest read of the API, so it is
 * SQL through the client's pool rather than `findMany` (docs/decisions/048: Prisma's query
 * layer was a third of the route's CPU): `list-projects.test.ts` holds its rows, order and
 * cursors equal to the Prisma form of the same query. Row-level security scopes it to the
 * organization, as it does every tenant read.
 */
export async function listProjects(
  deps: CoreDeps,
  actor: TenantContext,
  input: ListProjectsInput,
): Promise<Page<ProjectView>> {
  const order = sortOrder(input.sort, PROJECT_SORTS)
  const column = SORT_COLUMNS[order.field as ProjectSortField]
  if (!column) throw new Error(`listProjects: no column for the sort field ${order.field}`)
  const page = pageSql(input, order, column)
  const filters = [
    ...(input.status ? [Prisma.sql`status = ${input.status}::project_status`] : []),
    ...(input.search ? [Prisma.sql`name ILIKE ${`%${likeLiteral(input.search)}%`}`] : []),
    ...(page.where ? [page.where] : []),
  ]
  const where = filters.length ? Prisma.sql`WHERE ${Prisma.join(filters, ' AND ')}` : Prisma.empty
  const rows = await readSqlWithTenant<ProjectView>(
    deps.db,
    actor,
    Prisma.sql`SELECT ${PROJECT_VIEW_COLUMNS} FROM projects ${where}
      ORDER BY ${page.orderBy} LIMIT ${page.limit}::integer`,
  )
  return toPage(rows, input, order)
}
