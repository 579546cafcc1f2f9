import type { TaskPriority, TaskStatus } from '@repo/schemas'

export const statusLabels: Record<TaskStatus, string> = {
  todo: 'To do',
  in_progress: 'In progress',
  done: 'Done',
  canceled: 'Canceled',
}

export const priorityLabels: Record<TaskPriority, string> = {
  low: 'Low',
  medium: 'Medium',
  high: 'High',
  urgent: 'Urgent',
}

export const statusOptions = Object.entries(statusLabels).map(([value, label]) => ({
  value,
  label,
}))
export const priorityOptions = Object.entries(priorityLabels).map(([value, label]) => ({
  value,
  label,
}))
