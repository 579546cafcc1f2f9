'use client'

import { changePasswordInput } from '@repo/schemas'
import { useState } from 'react'
import { FormProblem, SubmitButton, TextField } from '@/components/forms/fields.tsx'
import { useActionForm } from '@/components/forms/use-action-form.ts'
import { Alert } from '@/components/ui/alert.tsx'
import { changePassword } from './actions.ts'

export function ChangePasswordForm() {
  const [done, setDone] = useState(false)
  const { form, onSubmit, problem, pending } = useActionForm({
    schema: changePasswordInput,
    action: changePassword,
    onSuccess: (_data, _input, form) => {
      setDone(true)
      form.reset({ currentPassword: '', newPassword: '' })
    },
  })
  return (
    <form
      method="post"
      onSubmit={onSubmit}
      onChange={() => setDone(false)}
      noValidate
      className="grid gap-4"
    >
      <FormProblem problem={problem} />
      {done ? (
        <Alert role="status" variant="success">
          Password changed. Other devices were signed out.
        </Alert>
      ) : null}
      <TextField
        form={form}
        name="currentPassword"
        label="Current password"
        type="password"
        autoComplete="current-password"
      />
      <TextField
        form={form}
        name="newPassword"
        label="New password"
        type="password"
        autoComplete="new-password"
      />
      <SubmitButton pending={pending}>Change password</SubmitButton>
    </form>
  )
}
