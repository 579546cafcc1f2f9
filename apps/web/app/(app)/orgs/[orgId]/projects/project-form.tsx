'use client'

import { createProjectInput, updateProjectInput } from '@repo/schemas'
import { useRouter } from 'next/navigation'
import { useRef, useState } from 'react'
import { ConflictChoice } from '@/components/forms/conflict-choice.tsx'
import {
  FormProblem,
  SelectField,
  SubmitButton,
  TextAreaField,
  TextField,
} from '@/components/forms/fields.tsx'
import { useActionForm } from '@/components/forms/use-action-form.ts'
import { Alert } from '@/components/ui/alert.tsx'
import { createProject, readProject, updateProject } from './actions.ts'

interface Existing {
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

/** Creates a project, or edits one; an edit based on an old version offers a choice. */
export function ProjectForm({ orgId, project }: { orgId: string; project?: Existing }) {
  const router = useRouter()
  // A ref: the "save mine" retry must send the version read a moment ago, not the first one.
  const version = useRef(project?.version ?? 0)
  const setVersion = (next: number) => {
    version.current = next
  }
  const [saved, setSaved] = useState(false)
  const { form, onSubmit, problem, pending } = useActionForm({
    schema: project ? updateProjectInput : createProjectInput,
    defaultValues: project
      ? { name: project.name, description: project.description, status: project.status }
      : { name: '', description: '', status: 'active' },
    action: (input) =>
      project
        ? updateProject({ ...input, orgId, projectId: project.id, version: version.current })
        : createProject({ ...input, name: input.name ?? '', orgId }),
    onSuccess: (data) => {
      if (data && typeof data === 'object' && 'version' in data) setVersion(data.version as number)
      setSaved(true)
      router.refresh()
    },
  })
  const conflict = problem?.status === 412 && project
  return (
    <form
      method="post"
      onSubmit={onSubmit}
      onChange={() => setSaved(false)}
      noValidate
      className="grid gap-4"
    >
      {conflict ? (
        <ConflictChoice
          what="project"
          onKeepMine={async () => {
            const latest = await readProject({ orgId, projectId: project.id })
            if (latest?.ok) setVersion(latest.data.version)
            await onSubmit()
          }}
          onTakeTheirs={async () => {
            const latest = await readProject({ orgId, projectId: project.id })
            if (!latest?.ok) return
            setVersion(latest.data.version)
            form.reset({
              name: latest.data.name,
              description: latest.data.description,
              status: latest.data.status,
            })
            router.refresh()
          }}
        />
      ) : (
        <FormProblem problem={problem} />
      )}
      {saved ? (
        <Alert role="status" variant="success">
          Saved.
        </Alert>
      ) : null}
      <TextField form={form} name="name" label="Name" />
      <TextAreaField form={form} name="description" label="Description" />
      <SelectField form={form} name="status" label="Status" options={statusOptions} />
      <SubmitButton pending={pending}>{project ? 'Save project' : 'Create project'}</SubmitButton>
    </form>
  )
}
