'use client'

import { confirmPasswordResetInput } from '@repo/schemas'
import Link from 'next/link'
import { FormProblem, SubmitButton, TextField } from '@/components/forms/fields.tsx'
import { useActionForm } from '@/components/forms/use-action-form.ts'
import { resetPassword } from '../recovery-actions.ts'

const schema = confirmPasswordResetInput.pick({ newPassword: true })

export function ResetPasswordForm({ token }: { token: string }) {
  const { form, onSubmit, problem, pending } = useActionForm({
    schema,
    action: (input) => resetPassword({ ...input, token }),
  })
  return (
    <form method="post" onSubmit={onSubmit} noValidate className="grid gap-4">
      <FormProblem problem={problem} />
      {problem && problem.status === 400 && !problem.fieldErrors.newPassword ? (
        <Link href="/forgot-password" className="text-sm underline underline-offset-4">
          Ask for a new link
        </Link>
      ) : null}
      <TextField
        form={form}
        name="newPassword"
        label="New password"
        type="password"
        autoComplete="new-password"
      />
      <SubmitButton pending={pending}>Set new password</SubmitButton>
    </form>
  )
}
