'use client'

import { recoveryCodeSchema, totpCodeSchema } from '@repo/schemas'
import { useState } from 'react'
import { z } from 'zod'
import { FormProblem, SubmitButton, TextField } from '@/components/forms/fields.tsx'
import { useActionForm } from '@/components/forms/use-action-form.ts'
import { Button } from '@/components/ui/button.tsx'
import { verifyMfa } from '../../mfa-actions.ts'

const codeForm = z.object({ code: totpCodeSchema.min(1, 'is required') })
const recoveryForm = z.object({ recoveryCode: recoveryCodeSchema.min(1, 'is required') })

function CodeForm({ next }: { next: string }) {
  const { form, onSubmit, problem, pending } = useActionForm({
    schema: codeForm,
    action: (input) => verifyMfa({ ...input, next }),
  })
  return (
    <form method="post" onSubmit={onSubmit} noValidate className="grid gap-4">
      <FormProblem problem={problem} />
      <TextField
        form={form}
        name="code"
        label="Authentication code"
        autoComplete="one-time-code"
        inputMode="numeric"
      />
      <SubmitButton pending={pending}>Verify</SubmitButton>
    </form>
  )
}

function RecoveryForm({ next }: { next: string }) {
  const { form, onSubmit, problem, pending } = useActionForm({
    schema: recoveryForm,
    action: (input) => verifyMfa({ ...input, next }),
  })
  return (
    <form method="post" onSubmit={onSubmit} noValidate className="grid gap-4">
      <FormProblem problem={problem} />
      <TextField form={form} name="recoveryCode" label="Recovery code" autoComplete="off" />
      <SubmitButton pending={pending}>Verify</SubmitButton>
    </form>
  )
}

/** The second step of a sign-in: a code from the app, or one of the recovery codes. */
export function MfaForm({ next }: { next: string }) {
  const [recovery, setRecovery] = useState(false)
  return (
    <div className="grid gap-4">
      {recovery ? <RecoveryForm next={next} /> : <CodeForm next={next} />}
      <Button
        variant="link"
        className="justify-self-start px-0"
        onClick={() => setRecovery(!recovery)}
      >
        {recovery ? 'Use your authenticator app' : 'Use a recovery code'}
      </Button>
    </div>
  )
}
