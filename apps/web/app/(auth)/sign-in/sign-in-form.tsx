'use client'

import { signInInput } from '@repo/schemas'
import { FormProblem, SubmitButton, TextField } from '@/components/forms/fields.tsx'
import { useActionForm } from '@/components/forms/use-action-form.ts'
import { signIn } from '../actions.ts'

export function SignInForm({ next }: { next: string }) {
  const { form, onSubmit, problem, pending } = useActionForm({
    schema: signInInput,
    action: (input) => signIn({ ...input, next }),
  })
  return (
    <form method="post" onSubmit={onSubmit} noValidate className="grid gap-4">
      <FormProblem problem={problem} />
      <TextField form={form} name="email" label="Email" type="email" autoComplete="email" />
      <TextField
        form={form}
        name="password"
        label="Password"
        type="password"
        autoComplete="current-password"
      />
      <SubmitButton pending={pending}>Sign in</SubmitButton>
    </form>
  )
}
