'use client'

import { renameOrganizationInput } from '@repo/schemas'
import { DeleteButton } from '@/components/forms/delete-button.tsx'
import { NameForm } from '@/components/forms/name-form.tsx'
import { deleteOrganization, renameOrganization } from './actions.ts'

export function RenameOrganizationForm({ orgId, name }: { orgId: string; name: string }) {
  return (
    <NameForm
      schema={renameOrganizationInput}
      name={name}
      label="Organization name"
      submitLabel="Rename organization"
      autoComplete="organization"
      save={(input) => renameOrganization({ ...input, orgId })}
    />
  )
}

export function DeleteOrganization({ orgId, name }: { orgId: string; name: string }) {
  return (
    <DeleteButton
      label="Delete organization"
      title={`Delete ${name}?`}
      description="Everything in it is deleted and every member loses access. This cannot be undone."
      confirmText={name}
      action={() => deleteOrganization({ orgId })}
    />
  )
}
