import {
  Prisma,
  type Project,
  type ProjectStatus,
  readSqlWithTenant,
  type TenantContext,
} from '@repo/db'
import type { ProjectSortField } from '@repo/schemas'
import type { CoreDeps } from './context.ts'
import { type Page, type PageRequest, pageSql, sortOrder, toPage } from './pagination.ts'
import { PROJECT_SORTS } from './project-fields.ts'

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

/** The columns of a Project, named as its fields, in the types Prisma gives them. */
const PROJECT_COLUMNS = Prisma.raw(
  'id, organization_id AS "organizationId", name, description, status, version, created_at AS "createdAt", updated_at AS "updatedAt"',
)

/**
 * A page of the organization's projects, filtered and sorted; one query whatever the size,
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
): Promise<Page<Project>> {
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
  const rows = await readSqlWithTenant<Project>(
    deps.db,
    actor,
    Prisma.sql`SELECT ${PROJECT_COLUMNS} FROM projects ${where}
      ORDER BY ${page.orderBy} LIMIT ${page.limit}::integer`,
  )
  return toPage(rows, input, order)
}
