import { type Project, ProjectStatus } from '@repo/db'
import type { SortOrder } from './pagination.ts'

export const PROJECT_STATUSES = Object.values(ProjectStatus)

/** What `?sort=` may name for projects (prefix `-` for descending). */
export const PROJECT_SORTS = {
  createdAt: { field: 'createdAt', kind: 'date' },
  name: { field: 'name', kind: 'string' },
} satisfies Record<string, Omit<SortOrder, 'direction'>>

export interface ProjectChanges {
  name?: string | undefined
  description?: string | undefined
  status?: ProjectStatus | undefined
}

/** A project as callers see it: the API's answers and webhook payloads. */
export const projectView = (p: Project) => ({
  id: p.id,
  name: p.name,
  description: p.description,
  status: p.status,
  version: p.version,
  createdAt: p.createdAt.toISOString(),
  updatedAt: p.updatedAt.toISOString(),
})
