'use client'

import { confirmTotpInput } from '@repo/schemas'
import { useState } from 'react'
import { DeleteButton } from '@/components/forms/delete-button.tsx'
import { FormProblem, SubmitButton, TextField } from '@/components/forms/fields.tsx'
import { SecretReveal } from '@/components/forms/secret-reveal.tsx'
import { useStepUp } from '@/components/forms/step-up.tsx'
import { useActionForm } from '@/components/forms/use-action-form.ts'
import { Alert } from '@/components/ui/alert.tsx'
import { Button } from '@/components/ui/button.tsx'
import { confirmTotpSetup, disableMfa, startTotpSetup } from './mfa-actions.ts'

const codeForm = confirmTotpInput.extend({
  code: confirmTotpInput.shape.code.min(1, 'is required'),
})

function ConfirmStep({
  setup,
  onDone,
}: {
  setup: { secret: string; qr: string }
  onDone: (codes: string[]) => void
}) {
  const { form, onSubmit, problem, pending } = useActionForm({
    schema: codeForm,
    action: confirmTotpSetup,
    onSuccess: (data) => onDone(data.recoveryCodes),
  })
  return (
    <div className="grid gap-4">
      <ol className="grid list-decimal gap-3 pl-5 text-sm">
        <li>
          Scan this QR code with your authenticator app.
          {/* biome-ignore lint/performance/noImgElement: a data: URL drawn on the server; nothing for next/image to optimise */}
          <img
            src={setup.qr}
            alt="QR code for your authenticator app"
            width={220}
            height={220}
            className="mt-2 rounded bg-white p-2"
          />
        </li>
        <li className="grid gap-1">
          <label htmlFor="setup-key">Or enter this setup key by hand:</label>
          <input
            id="setup-key"
            readOnly
            value={setup.secret}
            className="w-full max-w-sm rounded bg-muted px-2 py-1 font-mono text-sm"
            onFocus={(event) => event.currentTarget.select()}
          />
        </li>
        <li>Enter the 6-digit code the app shows.</li>
      </ol>
      <form method="post" onSubmit={onSubmit} noValidate className="grid gap-4">
        <FormProblem problem={problem} />
        <TextField
          form={form}
          name="code"
          label="Authentication code"
          autoComplete="one-time-code"
          inputMode="numeric"
        />
        <SubmitButton pending={pending} className="justify-self-start">
          Turn on two-factor authentication
        </SubmitButton>
      </form>
    </div>
  )
}

/** Enrolment (QR code and key, then recovery codes shown once) and removal with step-up. */
export function MfaSection({ enabled }: { enabled: boolean }) {
  const guard = useStepUp()
  const [setup, setSetup] = useState<{ secret: string; qr: string } | null>(null)
  const [codes, setCodes] = useState<string[] | null>(null)
  const [problem, setProblem] = useState<string | null>(null)
  if (codes)
    return (
      <div className="grid gap-3">
        <Alert role="status" variant="success">
          Two-factor authentication is on. Other devices were signed out.
        </Alert>
        <SecretReveal
          label="Recovery codes"
          secret={codes.join('\n')}
          downloadName="groundwork-recovery-codes.txt"
        />
        <p className="text-sm text-muted-foreground">
          Each code signs you in once if you lose your authenticator. Keep them somewhere safe.
        </p>
      </div>
    )
  if (enabled)
    return (
      <div className="grid gap-3">
        <p className="text-sm">Two-factor authentication is on.</p>
        <DeleteButton
          label="Turn off two-factor authentication"
          title="Turn off two-factor authentication?"
          description="Signing in will need only your password. Your recovery codes stop working."
          action={() => disableMfa({})}
        />
      </div>
    )
  if (setup) return <ConfirmStep setup={setup} onDone={setCodes} />
  return (
    <div className="grid justify-items-start gap-3">
      {problem ? (
        <Alert role="alert" variant="destructive">
          {problem}
        </Alert>
      ) : null}
      <p className="text-sm">Protect your account with a code from an authenticator app.</p>
      <Button
        onClick={async () => {
          setProblem(null)
          const result = await guard(() => startTotpSetup({}))
          if (result?.ok) setSetup(result.data)
          else if (result) setProblem(result.problem.message)
        }}
      >
        Set up two-factor authentication
      </Button>
    </div>
  )
}
