'use server'

import { changeRoleInput, idSchema, inviteMemberInput } from '@repo/schemas'
import { revalidatePath } from 'next/cache'
import { redirect } from 'next/navigation'
import { z } from 'zod'
import { defineAction } from '@/lib/server/action.ts'
import { callApi } from '@/lib/server/api.ts'

const inOrg = z.object({ orgId: idSchema })
const member = inOrg.extend({ userId: idSchema })
const invitation = inOrg.extend({ invitationId: idSchema })
const membersPath = (orgId: string) => `/orgs/${orgId}/members`

export const changeRole = defineAction(
  changeRoleInput.extend(member.shape),
  async ({ orgId, userId, role }) => {
    const result = await callApi((api) =>
      api.PATCH('/v1/orgs/{orgId}/members/{userId}', {
        params: { path: { orgId, userId } },
        body: { role },
      }),
    )
    if (result.ok) revalidatePath(membersPath(orgId))
    return result
  },
)

export const removeMember = defineAction(member, async ({ orgId, userId }) => {
  const result = await callApi((api) =>
    api.DELETE('/v1/orgs/{orgId}/members/{userId}', { params: { path: { orgId, userId } } }),
  )
  if (result.ok) revalidatePath(membersPath(orgId))
  return result
})

/** Leaving is removing yourself; afterwards the organization is not yours to see. */
export const leaveOrganization = defineAction(member, async ({ orgId, userId }) => {
  const result = await callApi((api) =>
    api.DELETE('/v1/orgs/{orgId}/members/{userId}', { params: { path: { orgId, userId } } }),
  )
  if (!result.ok) return result
  redirect('/orgs')
})

export const inviteMember = defineAction(
  inviteMemberInput.extend(inOrg.shape),
  async ({ orgId, ...body }) => {
    const result = await callApi((api) =>
      api.POST('/v1/orgs/{orgId}/invitations', { params: { path: { orgId } }, body }),
    )
    if (result.ok) revalidatePath(membersPath(orgId))
    return result
  },
)

/** A new link and a new expiry, which the list shows. */
export const resendInvitation = defineAction(invitation, async ({ orgId, invitationId }) => {
  const result = await callApi((api) =>
    api.POST('/v1/orgs/{orgId}/invitations/{invitationId}/resend', {
      params: { path: { orgId, invitationId } },
    }),
  )
  if (result.ok) revalidatePath(membersPath(orgId))
  return result
})

export const revokeInvitation = defineAction(invitation, async ({ orgId, invitationId }) => {
  const result = await callApi((api) =>
    api.DELETE('/v1/orgs/{orgId}/invitations/{invitationId}', {
      params: { path: { orgId, invitationId } },
    }),
  )
  if (result.ok) revalidatePath(membersPath(orgId))
  return result
})
