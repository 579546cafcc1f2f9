'use client'

import { WEBHOOK_EVENT_TYPES } from '@repo/schemas'
import { useState } from 'react'
import {
  CheckboxGroupField,
  FormProblem,
  SubmitButton,
  TextAreaField,
  TextField,
} from '@/components/forms/fields.tsx'
import { SecretReveal } from '@/components/forms/secret-reveal.tsx'
import { useActionForm } from '@/components/forms/use-action-form.ts'
import { useVersionedForm, VersionedFormStatus } from '@/components/forms/use-versioned-form.tsx'
import { createEndpoint, readEndpoint, updateEndpoint } from './actions.ts'
import { createEndpointForm, updateEndpointForm } from './form.ts'

const events = WEBHOOK_EVENT_TYPES.map((event) => ({ value: event, label: event }))

export function EndpointForm({ orgId }: { orgId: string }) {
  const [secret, setSecret] = useState<string | null>(null)
  const { form, onSubmit, problem, pending } = useActionForm({
    schema: createEndpointForm,
    defaultValues: { url: '', description: '', events: [...WEBHOOK_EVENT_TYPES] },
    action: (input) => createEndpoint({ ...input, orgId }),
    onSuccess: (data, _input, form) => {
      setSecret(data.secret)
      form.reset()
    },
  })
  return (
    <div className="grid gap-4">
      {secret ? <SecretReveal label="Signing secret" secret={secret} /> : null}
      <form
        method="post"
        onSubmit={onSubmit}
        noValidate
        className="grid gap-4"
        aria-label="Add an endpoint"
      >
        <FormProblem problem={problem} />
        <TextField form={form} name="url" label="Endpoint URL" type="url" placeholder="https://" />
        <TextAreaField form={form} name="description" label="Description" />
        <CheckboxGroupField form={form} name="events" label="Events" options={events} />
        <SubmitButton pending={pending} className="justify-self-start">
          Add endpoint
        </SubmitButton>
      </form>
    </div>
  )
}

interface Endpoint {
  id: string
  url: string
  description: string
  events: (typeof WEBHOOK_EVENT_TYPES)[number][]
  enabled: boolean
  version: number
}

const values = (endpoint: Endpoint) => ({
  url: endpoint.url,
  description: endpoint.description,
  events: endpoint.events,
  enabled: endpoint.enabled,
})

export function EditEndpointForm({ orgId, endpoint }: { orgId: string; endpoint: Endpoint }) {
  const ids = { orgId, endpointId: endpoint.id }
  const { form, onSubmit, onChange, pending, status } = useVersionedForm({
    schema: updateEndpointForm,
    entity: endpoint,
    toValues: values,
    save: (input, version) => updateEndpoint({ ...input, ...ids, version }),
    read: () => readEndpoint(ids),
  })
  return (
    <form method="post" onSubmit={onSubmit} onChange={onChange} noValidate className="grid gap-4">
      <VersionedFormStatus what="endpoint" status={status} />
      <TextField form={form} name="url" label="Endpoint URL" type="url" />
      <TextAreaField form={form} name="description" label="Description" />
      <CheckboxGroupField form={form} name="events" label="Events" options={events} />
      <label className="flex items-center gap-2 text-sm">
        <input type="checkbox" className="size-4 accent-primary" {...form.register('enabled')} />
        Enabled
      </label>
      <SubmitButton pending={pending} className="justify-self-start">
        Save endpoint
      </SubmitButton>
    </form>
  )
}
