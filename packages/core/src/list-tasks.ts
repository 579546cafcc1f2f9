import { type TaskPriority, type TaskStatus, type TenantContext, withTenant } from '@repo/db'
import { errors } from './app-error.ts'
import type { CoreDeps } from './context.ts'
import { type PageRequest, pageQuery, sortOrder, toPage } from './pagination.ts'
import { TASK_SORTS } from './task-fields.ts'

export interface ListTasksInput extends PageRequest {
  projectId: string
  status?: TaskStatus | undefined
  priority?: TaskPriority | undefined
  /** A member's user id, or `none` for unassigned tasks. */
  assigneeId?: string | undefined
  /** Tasks due on or before this day (`YYYY-MM-DD`). */
  dueBefore?: string | undefined
  /** A field of TASK_SORTS, prefixed `-` for descending; the route's schema checks it. */
  sort: string
}

/**
 * A page of a project's tasks, filtered and sorted. Two statements whatever the page
 * size: the project's existence (an unknown project is 404, not an empty list) and the page.
 */
export async function listTasks(deps: CoreDeps, actor: TenantContext, input: ListTasksInput) {
  const order = sortOrder(input.sort, TASK_SORTS)
  const query = pageQuery(input, order)
  const rows = await withTenant(deps.db, actor, async (tx) => {
    const project = await tx.project.findUnique({
      where: { id: input.projectId },
      select: { id: true },
    })
    if (!project) throw errors.notFound('The project')
    return tx.task.findMany({
      ...query,
      where: {
        projectId: input.projectId,
        ...(input.status ? { status: input.status } : {}),
        ...(input.priority ? { priority: input.priority } : {}),
        ...(input.assigneeId
          ? { assigneeId: input.assigneeId === 'none' ? null : input.assigneeId }
          : {}),
        ...(input.dueBefore
          ? { dueDate: { lte: new Date(`${input.dueBefore}T00:00:00.000Z`) } }
          : {}),
        ...query.where,
      },
    })
  })
  return toPage(rows, input, order)
}
