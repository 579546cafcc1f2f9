'use client'

import { updateProfileInput } from '@repo/schemas'
import { DeleteButton } from '@/components/forms/delete-button.tsx'
import { NameForm } from '@/components/forms/name-form.tsx'
import { unlinkOAuthAccount, updateProfile } from './actions.ts'

export function ProfileForm({ name }: { name: string }) {
  return (
    <NameForm
      schema={updateProfileInput}
      name={name}
      label="Name"
      submitLabel="Save profile"
      autoComplete="name"
      save={updateProfile}
    />
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
