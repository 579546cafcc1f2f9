'use client'

import { FormProblem, SelectField, SubmitButton, TextField } from '@/components/forms/fields.tsx'
import { useActionForm } from '@/components/forms/use-action-form.ts'
import { Card } from '@/components/ui/card.tsx'
import { createTaskForm } from '@/lib/task-form.ts'
import { priorityOptions } from '@/lib/task-labels.ts'
import { createTask } from './task-actions.ts'

interface Props {
  orgId: string
  projectId: string
  people: { id: string; name: string }[]
}

const schema = createTaskForm.pick({ title: true, priority: true, assigneeId: true })

export function NewTaskForm({ orgId, projectId, people }: Props) {
  const { form, onSubmit, problem, pending } = useActionForm({
    schema,
    defaultValues: { title: '', priority: 'medium', assigneeId: '' },
    action: (input) => createTask({ ...input, orgId, projectId }),
    // Ready for the next one: the title empties, focus stays in it.
    onSuccess: (_data, input, form) =>
      form.reset({ title: '', priority: input.priority ?? 'medium', assigneeId: '' }),
  })
  return (
    <Card className="p-4">
      <form
        method="post"
        onSubmit={onSubmit}
        noValidate
        aria-label="Add a task"
        className="grid gap-3"
      >
        <FormProblem problem={problem} />
        <div className="grid items-end gap-3 sm:grid-cols-[1fr_10rem_12rem_auto]">
          <TextField form={form} name="title" label="Task title" placeholder="What needs doing?" />
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
          <SubmitButton pending={pending}>Add task</SubmitButton>
        </div>
      </form>
    </Card>
  )
}
