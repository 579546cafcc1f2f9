'use server'

import { acceptInvitationInput } from '@repo/schemas'
import { redirect } from 'next/navigation'
import { defineAction } from '@/lib/server/action.ts'
import { callApi } from '@/lib/server/api.ts'

export const acceptInvitation = defineAction(acceptInvitationInput, async (input) => {
  const result = await callApi((api) => api.POST('/v1/invitations/accept', { body: input }))
  if (!result.ok) return result
  redirect(`/orgs/${result.data.id}/projects`)
})
