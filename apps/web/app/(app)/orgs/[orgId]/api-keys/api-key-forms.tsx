'use client'

import { API_KEY_SCOPES } from '@repo/schemas'
import { useState } from 'react'
import { DeleteButton } from '@/components/forms/delete-button.tsx'
import {
  CheckboxGroupField,
  FormProblem,
  SelectField,
  SubmitButton,
  TextField,
} from '@/components/forms/fields.tsx'
import { SecretReveal } from '@/components/forms/secret-reveal.tsx'
import { useActionForm } from '@/components/forms/use-action-form.ts'
import { EmptyState } from '@/components/lists/empty-state.tsx'
import { Badge } from '@/components/ui/badge.tsx'
import { Card } from '@/components/ui/card.tsx'
import { createApiKey, revokeApiKey } from './actions.ts'
import { apiKeyForm } from './form.ts'

const expiryOptions = [
  { value: '30', label: '30 days' },
  { value: '90', label: '90 days' },
  { value: '365', label: '1 year' },
  { value: '', label: 'Never' },
]

export function CreateApiKeyForm({ orgId }: { orgId: string }) {
  const [created, setCreated] = useState<{ name: string; key: string } | null>(null)
  const { form, onSubmit, problem, pending } = useActionForm({
    schema: apiKeyForm,
    defaultValues: { name: '', scopes: ['projects:read'], expiresInDays: '90' },
    action: (input) => createApiKey({ ...input, orgId }),
    onSuccess: (data, _input, form) => {
      setCreated({ name: data.name, key: data.key })
      form.reset()
    },
  })
  return (
    <div className="grid gap-4">
      {created ? <SecretReveal label={`API key “${created.name}”`} secret={created.key} /> : null}
      <form
        method="post"
        onSubmit={onSubmit}
        noValidate
        className="grid gap-4"
        aria-label="Create an API key"
      >
        <FormProblem problem={problem} />
        <div className="grid gap-4 sm:grid-cols-2">
          <TextField form={form} name="name" label="Key name" autoComplete="off" />
          <SelectField
            form={form}
            name="expiresInDays"
            label="Expires after"
            options={expiryOptions}
          />
        </div>
        <CheckboxGroupField
          form={form}
          name="scopes"
          label="Scopes"
          options={API_KEY_SCOPES.map((scope) => ({ value: scope, label: scope }))}
        />
        <SubmitButton pending={pending} className="justify-self-start">
          Create API key
        </SubmitButton>
      </form>
    </div>
  )
}

const when = new Intl.DateTimeFormat('en', { dateStyle: 'medium', timeZone: 'UTC' })

interface Key {
  id: string
  name: string
  prefix: string
  scopes: string[]
  lastUsedAt: string | null
  expiresAt: string | null
  createdAt: string
}

export function ApiKeyList({ orgId, keys }: { orgId: string; keys: Key[] }) {
  if (keys.length === 0) return <EmptyState title={<>No API keys yet.</>} />
  return (
    <Card>
      <ul className="divide-y" aria-label="API keys">
        {keys.map((key) => (
          <li key={key.id} className="flex flex-wrap items-center gap-3 px-4 py-3">
            <div className="grid min-w-0 flex-1 gap-1">
              <p className="font-medium">
                {key.name}{' '}
                <span className="font-mono text-xs text-muted-foreground">{key.prefix}…</span>
              </p>
              <p className="flex flex-wrap gap-1">
                {key.scopes.map((scope) => (
                  <Badge key={scope} variant="outline" className="font-mono">
                    {scope}
                  </Badge>
                ))}
              </p>
              <p className="text-xs text-muted-foreground">
                {key.lastUsedAt
                  ? `Last used ${when.format(new Date(key.lastUsedAt))}`
                  : 'Never used'}{' '}
                ·{' '}
                {key.expiresAt
                  ? `expires ${when.format(new Date(key.expiresAt))}`
                  : 'never expires'}
              </p>
            </div>
            <DeleteButton
              label="Revoke"
              title={`Revoke “${key.name}”?`}
              description="Anything using this key stops working at once."
              action={() => revokeApiKey({ orgId, apiKeyId: key.id })}
            />
          </li>
        ))}
      </ul>
    </Card>
  )
}
