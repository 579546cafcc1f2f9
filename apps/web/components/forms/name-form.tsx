'use client'

import { useState } from 'react'
import type { z } from 'zod'
import { Alert } from '@/components/ui/alert.tsx'
import type { Result } from '@/lib/problem.ts'
import { FormProblem, SubmitButton, TextField } from './fields.tsx'
import { useActionForm } from './use-action-form.ts'

/** Renames something (a profile, an organization): one name field, "Saved." after. */
export function NameForm({
  schema,
  name,
  label,
  submitLabel,
  autoComplete,
  save,
}: {
  /** The API's own input schema of the rename. */
  schema: z.ZodType<{ name: string }, { name: string }>
  name: string
  label: string
  submitLabel: string
  autoComplete: 'name' | 'organization'
  save: (input: { name: string }) => Promise<Result<unknown> | undefined>
}) {
  const [saved, setSaved] = useState(false)
  const { form, onSubmit, problem, pending } = useActionForm({
    schema,
    defaultValues: { name },
    action: save,
    // The action revalidates what shows the name; its answer carries the new page.
    onSuccess: () => setSaved(true),
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
      <TextField form={form} name="name" label={label} autoComplete={autoComplete} />
      <SubmitButton pending={pending} className="justify-self-start">
        {submitLabel}
      </SubmitButton>
    </form>
  )
}
