import { type ProjectStatus, readWithTenant, type TenantContext } from '@repo/db'
import type { CoreDeps } from './context.ts'
import { type PageRequest, pageQuery, sortOrder, toPage } from './pagination.ts'
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

/**
 * A page of the organization's projects, filtered and sorted; one query whatever the size,
 * sent with its tenant settings in one round trip (readWithTenant).
 */
export async function listProjects(deps: CoreDeps, actor: TenantContext, input: ListProjectsInput) {
  const order = sortOrder(input.sort, PROJECT_SORTS)
  const query = pageQuery(input, order)
  const rows = await readWithTenant(deps.db, actor, (db) =>
    db.project.findMany({
      ...query,
      where: {
        ...(input.status ? { status: input.status } : {}),
        ...(input.search
          ? { name: { contains: likeLiteral(input.search), mode: 'insensitive' } }
          : {}),
        ...query.where,
      },
    }),
  )
  return toPage(rows, input, order)
}
