'use client'

import { inviteMemberInput, type Role } from '@repo/schemas'
import { useState } from 'react'
import { FormProblem, SelectField, SubmitButton, TextField } from '@/components/forms/fields.tsx'
import { useStepUp } from '@/components/forms/step-up.tsx'
import { useActionForm } from '@/components/forms/use-action-form.ts'
import { Alert } from '@/components/ui/alert.tsx'
import { Button } from '@/components/ui/button.tsx'
import { inviteMember, resendInvitation, revokeInvitation } from './actions.ts'

export function InviteForm({
  orgId,
  canInviteOwners,
}: {
  orgId: string
  canInviteOwners: boolean
}) {
  const [sent, setSent] = useState<string | null>(null)
  const { form, onSubmit, problem, pending } = useActionForm({
    schema: inviteMemberInput,
    defaultValues: { email: '', role: 'member' },
    action: (input) => inviteMember({ ...input, orgId }),
    onSuccess: (_data, input, form) => {
      setSent(input.email)
      form.reset({ email: '', role: input.role })
    },
  })
  const roles = [
    { value: 'member', label: 'Member' },
    { value: 'admin', label: 'Admin' },
    ...(canInviteOwners ? [{ value: 'owner', label: 'Owner' }] : []),
  ]
  return (
    <form
      method="post"
      onSubmit={onSubmit}
      noValidate
      className="grid gap-3"
      aria-label="Invite a member"
    >
      <FormProblem problem={problem} />
      {sent ? (
        <Alert role="status" variant="success">
          Invitation sent to {sent}.
        </Alert>
      ) : null}
      <div className="grid items-end gap-3 sm:grid-cols-[1fr_10rem_auto]">
        <TextField form={form} name="email" label="Email address" type="email" autoComplete="off" />
        <SelectField form={form} name="role" label="Role" options={roles} />
        <SubmitButton pending={pending}>Send invitation</SubmitButton>
      </div>
    </form>
  )
}

const when = new Intl.DateTimeFormat('en', { dateStyle: 'medium', timeZone: 'UTC' })

export function InvitationRow({
  orgId,
  invitation,
  manageable,
}: {
  orgId: string
  invitation: { id: string; email: string; role: Role; expiresAt: string }
  /** Only owners manage an owner's invitation (the API refuses admins). */
  manageable: boolean
}) {
  const [message, setMessage] = useState<{ text: string; ok: boolean } | null>(null)
  const ids = { orgId, invitationId: invitation.id }
  const guard = useStepUp()
  return (
    <li className="flex flex-wrap items-center gap-3 px-4 py-3">
      <div className="grid min-w-0 flex-1 gap-0.5">
        <p className="truncate font-medium">{invitation.email}</p>
        <p className="text-xs text-muted-foreground">
          {invitation.role} · expires {when.format(new Date(invitation.expiresAt))}
        </p>
        {message ? (
          <p
            role={message.ok ? 'status' : 'alert'}
            className={message.ok ? 'text-xs' : 'text-xs text-destructive'}
          >
            {message.text}
          </p>
        ) : null}
      </div>
      {manageable ? (
        <>
          <Button
            size="sm"
            variant="outline"
            aria-label={`Resend invitation to ${invitation.email}`}
            onClick={async () => {
              const result = await guard(() => resendInvitation(ids))
              if (result)
                setMessage(
                  result.ok
                    ? { text: 'Sent again.', ok: true }
                    : { text: result.problem.message, ok: false },
                )
            }}
          >
            Resend
          </Button>
          <Button
            size="sm"
            variant="outline"
            aria-label={`Revoke invitation to ${invitation.email}`}
            onClick={async () => {
              const result = await guard(() => revokeInvitation(ids))
              if (result && !result.ok) setMessage({ text: result.problem.message, ok: false })
            }}
          >
            Revoke
          </Button>
        </>
      ) : null}
    </li>
  )
}
