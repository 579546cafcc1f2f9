'use client'

import { signUpInput } from '@repo/schemas'
import { FormProblem, SubmitButton, TextField } from '@/components/forms/fields.tsx'
import { useActionForm } from '@/components/forms/use-action-form.ts'
import { signUp } from '../actions.ts'

export function SignUpForm({ next }: { next?: string | undefined }) {
  const { form, onSubmit, problem, pending } = useActionForm({
    schema: signUpInput,
    action: (input) => signUp({ ...input, ...(next ? { next } : {}) }),
  })
  return (
    <form method="post" onSubmit={onSubmit} noValidate className="grid gap-4">
      <FormProblem problem={problem} />
      <TextField form={form} name="name" label="Name" autoComplete="name" />
      <TextField form={form} name="email" label="Email" type="email" autoComplete="email" />
      <TextField
        form={form}
        name="password"
        label="Password"
        type="password"
        autoComplete="new-password"
        description="At least 10 characters. A passphrase of a few words works well."
      />
      <SubmitButton pending={pending}>Sign up</SubmitButton>
    </form>
  )
}
