'use client'

import { createProjectInput, updateProjectInput } from '@repo/schemas'
import {
  FormProblem,
  SelectField,
  SubmitButton,
  TextAreaField,
  TextField,
} from '@/components/forms/fields.tsx'
import { useActionForm } from '@/components/forms/use-action-form.ts'
import { useVersionedForm, VersionedFormStatus } from '@/components/forms/use-versioned-form.tsx'
import { createProject, readProject, updateProject } from './actions.ts'

interface Project {
  id: string
  name: string
  description: string
  status: 'active' | 'archived'
  version: number
}

const statusOptions = [
  { value: 'active', label: 'Active' },
  { value: 'archived', label: 'Archived' },
]

export function CreateProjectForm({ orgId }: { orgId: string }) {
  const { form, onSubmit, problem, pending } = useActionForm({
    schema: createProjectInput,
    defaultValues: { name: '', description: '', status: 'active' },
    action: (input) => createProject({ ...input, orgId }),
  })
  return (
    <form method="post" onSubmit={onSubmit} noValidate className="grid gap-4">
      <FormProblem problem={problem} />
      <TextField form={form} name="name" label="Name" />
      <TextAreaField form={form} name="description" label="Description" />
      <SelectField form={form} name="status" label="Status" options={statusOptions} />
      <SubmitButton pending={pending}>Create project</SubmitButton>
    </form>
  )
}

const toValues = (project: Project) => ({
  name: project.name,
  description: project.description,
  status: project.status,
})

export function EditProjectForm({ orgId, project }: { orgId: string; project: Project }) {
  const ids = { orgId, projectId: project.id }
  const { form, onSubmit, onChange, pending, status } = useVersionedForm({
    schema: updateProjectInput,
    entity: project,
    toValues,
    save: (input, version) => updateProject({ ...input, ...ids, version }),
    read: () => readProject(ids),
  })
  return (
    <form method="post" onSubmit={onSubmit} onChange={onChange} noValidate className="grid gap-4">
      <VersionedFormStatus what="project" status={status} />
      <TextField form={form} name="name" label="Name" />
      <TextAreaField form={form} name="description" label="Description" />
      <SelectField form={form} name="status" label="Status" options={statusOptions} />
      <SubmitButton pending={pending}>Save project</SubmitButton>
    </form>
  )
}
