'use client'

import { requestPasswordResetInput } from '@repo/schemas'
import { useState } from 'react'
import { FormProblem, SubmitButton, TextField } from '@/components/forms/fields.tsx'
import { useActionForm } from '@/components/forms/use-action-form.ts'
import { Alert } from '@/components/ui/alert.tsx'
import { requestPasswordReset } from '../recovery-actions.ts'

export function ForgotPasswordForm() {
  const [sentTo, setSentTo] = useState<string | null>(null)
  const { form, onSubmit, problem, pending } = useActionForm({
    schema: requestPasswordResetInput,
    action: requestPasswordReset,
    onSuccess: (_data, input) => setSentTo(input.email),
  })
  if (sentTo)
    return (
      <Alert role="status" variant="success">
        If an account uses {sentTo}, a link to reset its password is on its way. It works for one
        hour and only once.
      </Alert>
    )
  return (
    <form method="post" onSubmit={onSubmit} noValidate className="grid gap-4">
      <FormProblem problem={problem} />
      <TextField form={form} name="email" label="Email" type="email" autoComplete="email" />
      <SubmitButton pending={pending}>Send reset link</SubmitButton>
    </form>
  )
}
