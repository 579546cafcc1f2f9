'use client'

import { renameOrganizationInput } from '@repo/schemas'
import { useRouter } from 'next/navigation'
import { useState } from 'react'
import { DeleteButton } from '@/components/forms/delete-button.tsx'
import { FormProblem, SubmitButton, TextField } from '@/components/forms/fields.tsx'
import { useActionForm } from '@/components/forms/use-action-form.ts'
import { Alert } from '@/components/ui/alert.tsx'
import { deleteOrganization, renameOrganization } from './actions.ts'

export function RenameOrganizationForm({ orgId, name }: { orgId: string; name: string }) {
  const router = useRouter()
  const [saved, setSaved] = useState(false)
  const { form, onSubmit, problem, pending } = useActionForm({
    schema: renameOrganizationInput,
    defaultValues: { name },
    action: (input) => renameOrganization({ ...input, orgId }),
    onSuccess: () => {
      setSaved(true)
      router.refresh()
    },
  })
  return (
    <form
      method="post"
      onSubmit={onSubmit}
      onChange={() => setSaved(false)}
      noValidate
      className="grid gap-4"
    >
      <FormProblem problem={problem} />
      {saved ? (
        <Alert role="status" variant="success">
          Saved.
        </Alert>
      ) : null}
      <TextField form={form} name="name" label="Organization name" autoComplete="organization" />
      <SubmitButton pending={pending}>Rename organization</SubmitButton>
    </form>
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
