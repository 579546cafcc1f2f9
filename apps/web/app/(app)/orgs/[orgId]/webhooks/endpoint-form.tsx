'use client'

import { WEBHOOK_EVENT_TYPES } from '@repo/schemas'
import { useRouter } from 'next/navigation'
import { useRef, useState } from 'react'
import { ConflictChoice } from '@/components/forms/conflict-choice.tsx'
import {
  CheckboxGroupField,
  FormProblem,
  SubmitButton,
  TextAreaField,
  TextField,
} from '@/components/forms/fields.tsx'
import { SecretReveal } from '@/components/forms/secret-reveal.tsx'
import { useActionForm } from '@/components/forms/use-action-form.ts'
import { Alert } from '@/components/ui/alert.tsx'
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
  const router = useRouter()
  const version = useRef(endpoint.version)
  const [saved, setSaved] = useState(false)
  const ids = { orgId, endpointId: endpoint.id }
  const { form, onSubmit, problem, pending } = useActionForm({
    schema: updateEndpointForm,
    defaultValues: values(endpoint),
    action: (input) => updateEndpoint({ ...input, ...ids, version: version.current }),
    onSuccess: (data) => {
      version.current = data.version
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
      {problem?.status === 412 ? (
        <ConflictChoice
          what="endpoint"
          onKeepMine={async () => {
            const latest = await readEndpoint(ids)
            if (latest?.ok) version.current = latest.data.version
            await onSubmit()
          }}
          onTakeTheirs={async () => {
            const latest = await readEndpoint(ids)
            if (!latest?.ok) return
            version.current = latest.data.version
            form.reset(values(latest.data))
          }}
        />
      ) : (
        <FormProblem problem={problem} />
      )}
      {saved ? (
        <Alert role="status" variant="success">
          Saved.
        </Alert>
      ) : null}
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
