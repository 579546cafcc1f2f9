import { z } from 'zod'
import { listQuery, sortSchema } from './lists.ts'
import { idSchema, textSchema, titleSchema } from './primitives.ts'
import { projectParams } from './projects.ts'

// As the database declares them (task_status, task_priority); @repo/core's tests hold the
// lists equal, in order: priorities rank by it when a list is sorted by priority.
export const TASK_STATUSES = ['todo', 'in_progress', 'done', 'canceled'] as const
/** Lowest first. */
export const TASK_PRIORITIES = ['low', 'medium', 'high', 'urgent'] as const
export const taskStatus = z.enum(TASK_STATUSES)
export const taskPriority = z.enum(TASK_PRIORITIES)
export type TaskStatus = z.output<typeof taskStatus>
export type TaskPriority = z.output<typeof taskPriority>

/** What `?sort=` may name for tasks; @repo/core maps each to its column. */
export const TASK_SORT_FIELDS = ['createdAt', 'dueDate', 'priority', 'title'] as const
export type TaskSortField = (typeof TASK_SORT_FIELDS)[number]

export const taskParams = projectParams.extend({ taskId: idSchema })

// Postgres dates start at year 1; zod would let year 0000 through to a database error.
/** A calendar day, `YYYY-MM-DD`. */
export const dateSchema = z.iso
  .date({ error: 'must be a date (YYYY-MM-DD)' })
  .refine((value) => value >= '0001-01-01', 'must be in year 1 or later')

/** What a task body may set; every field optional (PATCH), the title required to create. */
export const updateTaskInput = z
  .object({
    title: titleSchema(200).optional(),
    description: textSchema(10_000).optional(),
    status: taskStatus.optional(),
    priority: taskPriority.optional(),
    assigneeId: idSchema
      .nullable()
      .describe('A member of the organization; null unassigns.')
      .optional(),
    dueDate: dateSchema.nullable().optional(),
  })
  .strict()
export type UpdateTaskInput = z.input<typeof updateTaskInput>

export const createTaskInput = updateTaskInput.required({ title: true })
export type CreateTaskInput = z.input<typeof createTaskInput>

export const listTasksQuery = listQuery.extend({
  status: taskStatus.optional(),
  priority: taskPriority.optional(),
  assigneeId: z
    .union([idSchema, z.literal('none')])
    .optional()
    .describe('A member, or none for unassigned tasks.'),
  dueBefore: dateSchema.optional().describe('Due on or before this day.'),
  sort: sortSchema(TASK_SORT_FIELDS, '-createdAt'),
})
/** What a list page may put in its URL; every field optional. */
export type ListTasksQuery = z.input<typeof listTasksQuery>
