'use client'

import { createOrganizationInput } from '@repo/schemas'
import { FormProblem, SubmitButton, TextField } from '@/components/forms/fields.tsx'
import { useActionForm } from '@/components/forms/use-action-form.ts'
import { createOrganization } from '../actions.ts'

export function CreateOrganizationForm() {
  const { form, onSubmit, problem, pending } = useActionForm({
    schema: createOrganizationInput,
    action: createOrganization,
  })
  return (
    <form method="post" onSubmit={onSubmit} noValidate className="grid gap-4">
      <FormProblem problem={problem} />
      <TextField form={form} name="name" label="Organization name" autoComplete="organization" />
      <SubmitButton pending={pending}>Create organization</SubmitButton>
    </form>
  )
}
