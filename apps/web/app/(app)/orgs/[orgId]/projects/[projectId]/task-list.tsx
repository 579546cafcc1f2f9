'use client'

import type { TaskStatus } from '@repo/schemas'
import Link from 'next/link'
import { useRouter } from 'next/navigation'
import { startTransition, useOptimistic, useState } from 'react'
import { Alert } from '@/components/ui/alert.tsx'
import { Badge } from '@/components/ui/badge.tsx'
import { Card } from '@/components/ui/card.tsx'
import { NativeSelect } from '@/components/ui/input.tsx'
import { runAction } from '@/lib/problem.ts'
import { priorityLabels, statusOptions } from '@/lib/task-labels.ts'
import { updateTask } from './task-actions.ts'

interface Task {
  id: string
  title: string
  status: TaskStatus
  priority: keyof typeof priorityLabels
  assigneeId: string | null
  dueDate: string | null
  version: number
}

interface Props {
  orgId: string
  projectId: string
  tasks: Task[]
  people: { id: string; name: string }[]
}

/**
 * The tasks, each with its status changeable in place. The new status shows at once
 * (optimistic); if the API refuses it (someone changed the task, or the role may not),
 * the row goes back to what the server has and says why.
 */
export function TaskList({ orgId, projectId, tasks, people }: Props) {
  const router = useRouter()
  const [message, setMessage] = useState<string | null>(null)
  const [shown, setStatus] = useOptimistic(
    tasks,
    (current, change: { id: string; status: TaskStatus }) =>
      current.map((task) => (task.id === change.id ? { ...task, status: change.status } : task)),
  )
  const nameOf = (id: string | null) => people.find((person) => person.id === id)?.name

  function changeStatus(task: Task, status: TaskStatus) {
    setMessage(null)
    startTransition(async () => {
      setStatus({ id: task.id, status })
      const result = await runAction(() =>
        updateTask({ orgId, projectId, taskId: task.id, version: task.version, status }),
      )
      if (!result || result.ok) return // the action revalidated the list
      setMessage(
        result.problem.status === 412
          ? `“${task.title}” was changed by someone else, so your change was not saved. It now shows their version.`
          : result.problem.message,
      )
      // Nothing was saved, so nothing was revalidated: fetch what the server has now.
      router.refresh()
    })
  }

  return (
    <div className="grid gap-3">
      {message ? (
        <Alert variant="destructive" role="alert">
          {message}
        </Alert>
      ) : null}
      <Card>
        <ul className="divide-y" aria-label="Tasks">
          {shown.map((task) => (
            <li key={task.id} className="flex flex-wrap items-center gap-3 px-4 py-3">
              <div className="grid min-w-0 flex-1 gap-1">
                <Link
                  href={`/orgs/${orgId}/projects/${projectId}/tasks/${task.id}`}
                  className="truncate font-medium hover:underline"
                >
                  {task.title}
                </Link>
                <p className="flex flex-wrap gap-2 text-xs text-muted-foreground">
                  <Badge
                    variant={
                      task.priority === 'urgent' || task.priority === 'high'
                        ? 'default'
                        : 'secondary'
                    }
                  >
                    {priorityLabels[task.priority]}
                  </Badge>
                  <span>{nameOf(task.assigneeId) ?? 'Unassigned'}</span>
                  {task.dueDate ? <span>Due {task.dueDate}</span> : null}
                </p>
              </div>
              <label className="sr-only" htmlFor={`status-${task.id}`}>
                Status of {task.title}
              </label>
              <NativeSelect
                id={`status-${task.id}`}
                className="w-36"
                value={task.status}
                onChange={(event) => changeStatus(task, event.target.value as TaskStatus)}
              >
                {statusOptions.map((option) => (
                  <option key={option.value} value={option.value}>
                    {option.label}
                  </option>
                ))}
              </NativeSelect>
            </li>
          ))}
        </ul>
      </Card>
    </div>
  )
}
