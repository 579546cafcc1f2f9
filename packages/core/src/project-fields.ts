import type { Project, ProjectStatus } from '@repo/db'
import type { ProjectSortField } from '@repo/schemas'
import type { SortOrder } from './pagination.ts'

/**
 * The column behind each field `?sort=` may name (prefix `-` for descending). Keyed by the
 * shared schema's fields, so a field added on one side only fails to compile.
 */
export const PROJECT_SORTS = {
  createdAt: { field: 'createdAt', kind: 'date' },
  name: { field: 'name', kind: 'string' },
} satisfies Record<ProjectSortField, Omit<SortOrder, 'direction'>>

export interface ProjectChanges {
  name?: string | undefined
  description?: string | undefined
  status?: ProjectStatus | undefined
}

/** A project as callers see it: the API's answers and webhook payloads. */
export type ProjectView = ReturnType<typeof projectView>
export const projectView = (p: Project) => ({
  id: p.id,
  name: p.name,
  description: p.description,
  status: p.status,
  version: p.version,
  createdAt: p.createdAt.toISOString(),
  updatedAt: p.updatedAt.toISOString(),
})
