'use client'

import { DeleteButton } from '@/components/forms/delete-button.tsx'
import { deleteProject } from '../../actions.ts'

export function DeleteProject({
  orgId,
  projectId,
  name,
}: {
  orgId: string
  projectId: string
  name: string
}) {
  return (
    <DeleteButton
      label="Delete project"
      title={`Delete ${name}?`}
      description="The project and every task in it are deleted. This cannot be undone."
      action={() => deleteProject({ orgId, projectId })}
    />
  )
}
