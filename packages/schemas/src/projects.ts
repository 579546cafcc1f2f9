import { z } from 'zod'
import { listQuery, sortSchema } from './lists.ts'
import { idSchema, textSchema, titleSchema } from './primitives.ts'

/** As the database declares them (project_status); @repo/core's tests hold the two equal. */
export const PROJECT_STATUSES = ['active', 'archived'] as const
export const projectStatus = z.enum(PROJECT_STATUSES)
export type ProjectStatus = z.output<typeof projectStatus>

/** What `?sort=` may name for projects; @repo/core maps each to its column. */
export const PROJECT_SORT_FIELDS = ['createdAt', 'name'] as const
export type ProjectSortField = (typeof PROJECT_SORT_FIELDS)[number]

export const projectParams = z.object({ orgId: idSchema, projectId: idSchema })

/** What a project body may set; every field optional (PATCH), the name required to create. */
export const updateProjectInput = z
  .object({
    name: titleSchema(100).optional(),
    description: textSchema(2000).optional(),
    status: projectStatus.optional(),
  })
  .strict()
export type UpdateProjectInput = z.input<typeof updateProjectInput>

export const createProjectInput = updateProjectInput.required({ name: true })
export type CreateProjectInput = z.input<typeof createProjectInput>

export const listProjectsQuery = listQuery.extend({
  status: projectStatus.optional(),
  search: titleSchema(100).optional().describe('Part of the name.'),
  sort: sortSchema(PROJECT_SORT_FIELDS, '-createdAt'),
})
/** What a list page may put in its URL; every field optional. */
export type ListProjectsQuery = z.input<typeof listProjectsQuery>
