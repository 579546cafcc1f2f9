'use client'

import { useRouter } from 'next/navigation'
import { DeleteButton } from '@/components/forms/delete-button.tsx'
import { SelectField, SubmitButton, TextAreaField, TextField } from '@/components/forms/fields.tsx'
import { useVersionedForm, VersionedFormStatus } from '@/components/forms/use-versioned-form.tsx'
import { updateTaskForm } from '@/lib/task-form.ts'
import { priorityOptions, statusOptions } from '@/lib/task-labels.ts'
import { deleteTask, readTask, updateTask } from '../../task-actions.ts'

interface Task {
  id: string
  title: string
  description: string
  status: 'todo' | 'in_progress' | 'done' | 'canceled'
  priority: 'low' | 'medium' | 'high' | 'urgent'
  assigneeId: string | null
  dueDate: string | null
  version: number
}

const formValues = (task: Task) => ({
  title: task.title,
  description: task.description,
  status: task.status,
  priority: task.priority,
  assigneeId: task.assigneeId ?? '',
  dueDate: task.dueDate ?? '',
})

export function TaskForm({
  orgId,
  projectId,
  task,
  people,
}: {
  orgId: string
  projectId: string
  task: Task
  people: { id: string; name: string }[]
}) {
  const router = useRouter()
  const ids = { orgId, projectId, taskId: task.id }
  const { form, onSubmit, onChange, pending, status } = useVersionedForm({
    schema: updateTaskForm,
    entity: task,
    toValues: formValues,
    save: (input, version) => updateTask({ ...input, ...ids, version }),
    read: () => readTask(ids),
  })
  return (
    <form method="post" onSubmit={onSubmit} onChange={onChange} noValidate className="grid gap-4">
      <VersionedFormStatus what="task" status={status} />
      <TextField form={form} name="title" label="Title" />
      <TextAreaField form={form} name="description" label="Description" />
      <div className="grid gap-4 sm:grid-cols-2">
        <SelectField form={form} name="status" label="Status" options={statusOptions} />
        <SelectField form={form} name="priority" label="Priority" options={priorityOptions} />
        <SelectField
          form={form}
          name="assigneeId"
          label="Assignee"
          options={[
            { value: '', label: 'Unassigned' },
            ...people.map((person) => ({ value: person.id, label: person.name })),
          ]}
        />
        <TextField form={form} name="dueDate" label="Due date" type="date" />
      </div>
      <div className="flex flex-wrap justify-between gap-3">
        <SubmitButton pending={pending}>Save task</SubmitButton>
        <DeleteButton
          label="Delete task"
          title={`Delete “${task.title}”?`}
          description="The task is deleted. This cannot be undone."
          action={() => deleteTask(ids)}
          onDone={() => router.push(`/orgs/${orgId}/projects/${projectId}`)}
        />
      </div>
    </form>
  )
}
