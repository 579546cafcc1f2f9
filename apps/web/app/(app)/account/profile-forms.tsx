'use client'

import { updateProfileInput } from '@repo/schemas'
import { useRouter } from 'next/navigation'
import { useState } from 'react'
import { DeleteButton } from '@/components/forms/delete-button.tsx'
import { FormProblem, SubmitButton, TextField } from '@/components/forms/fields.tsx'
import { useActionForm } from '@/components/forms/use-action-form.ts'
import { Alert } from '@/components/ui/alert.tsx'
import { unlinkOAuthAccount, updateProfile } from './actions.ts'

export function ProfileForm({ name }: { name: string }) {
  const router = useRouter()
  const [saved, setSaved] = useState(false)
  const { form, onSubmit, problem, pending } = useActionForm({
    schema: updateProfileInput,
    defaultValues: { name },
    action: updateProfile,
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
      <TextField form={form} name="name" label="Name" autoComplete="name" />
      <SubmitButton pending={pending} className="justify-self-start">
        Save profile
      </SubmitButton>
    </form>
  )
}

const providerNames = { github: 'GitHub', google: 'Google' } as const

export function ConnectedAccounts({
  accounts,
}: {
  accounts: { provider: 'github' | 'google'; connectedAt: string }[]
}) {
  if (accounts.length === 0)
    return <p className="text-sm text-muted-foreground">No sign-in providers are connected.</p>
  return (
    <ul className="divide-y rounded-lg border" aria-label="Connected accounts">
      {accounts.map((account) => (
        <li key={account.provider} className="flex flex-wrap items-center gap-3 px-4 py-3">
          <span className="flex-1 font-medium">{providerNames[account.provider]}</span>
          <DeleteButton
            label="Disconnect"
            title={`Disconnect ${providerNames[account.provider]}?`}
            description="You will no longer be able to sign in with it."
            action={() => unlinkOAuthAccount({ provider: account.provider })}
          />
        </li>
      ))}
    </ul>
  )
}
