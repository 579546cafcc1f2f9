import type { Task, TaskPriority, TaskStatus, TenantTransaction } from '@repo/db'
import { TASK_PRIORITIES, type TaskSortField } from '@repo/schemas'
import { AppError } from './app-error.ts'
import type { SortOrder } from './pagination.ts'

/**
 * The column behind each field `?sort=` may name (prefix `-` for descending). Keyed by the
 * shared schema's fields, so a field added on one side only fails to compile. Priorities
 * rank lowest first, the database's order (input-enums.test.ts holds the two equal).
 */
export const TASK_SORTS = {
  createdAt: { field: 'createdAt', kind: 'date' },
  dueDate: { field: 'dueDate', kind: 'date', nullable: true },
  priority: { field: 'priority', kind: 'enum', values: TASK_PRIORITIES },
  title: { field: 'title', kind: 'string' },
} satisfies Record<TaskSortField, Omit<SortOrder, 'direction'>>

export interface TaskChanges {
  title?: string | undefined
  description?: string | undefined
  status?: TaskStatus | undefined
  priority?: TaskPriority | undefined
  /** A member's user id; null unassigns. */
  assigneeId?: string | null | undefined
  /** A calendar date, `YYYY-MM-DD`; null clears it. */
  dueDate?: string | null | undefined
}

/** The columns a change writes: a due date is a calendar day, stored as such. */
export function taskData(changes: TaskChanges) {
  const { dueDate, ...rest } = changes
  return {
    ...rest,
    ...(dueDate === undefined
      ? {}
      : { dueDate: dueDate === null ? null : new Date(`${dueDate}T00:00:00.000Z`) }),
  }
}

/**
 * An assignee must be a member of the organization. The (organization, assignee) foreign
 * key enforces it in the database; this check only turns it into an answer that names the
 * field. It runs in the write's transaction.
 */
export async function assertAssignable(
  tx: TenantTransaction,
  organizationId: string,
  assigneeId: string | null | undefined,
) {
  if (!assigneeId) return
  const member = await tx.membership.findUnique({
    // One being removed is no longer a member.
    where: {
      organizationId_userId: { organizationId, userId: assigneeId },
      removalRequestedAt: null,
    },
    select: { id: true },
  })
  if (!member) {
    throw new AppError({
      code: 'assignee_not_member',
      status: 422,
      userMessage: 'The assignee must be a member of this organization.',
      fields: [{ field: 'body.assigneeId', message: 'is not a member of this organization' }],
    })
  }
}

/** A task as callers see it: the API's answers and webhook payloads. */
export const taskView = (t: Task) => ({
  id: t.id,
  projectId: t.projectId,
  title: t.title,
  description: t.description,
  status: t.status,
  priority: t.priority,
  assigneeId: t.assigneeId,
  dueDate: t.dueDate?.toISOString().slice(0, 10) ?? null,
  version: t.version,
  createdAt: t.createdAt.toISOString(),
  updatedAt: t.updatedAt.toISOString(),
})
