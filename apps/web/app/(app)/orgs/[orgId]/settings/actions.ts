'use server'

import { idSchema, renameOrganizationInput } from '@repo/schemas'
import { revalidatePath } from 'next/cache'
import { redirect } from 'next/navigation'
import { z } from 'zod'
import { defineAction } from '@/lib/server/action.ts'
import { callApi } from '@/lib/server/api.ts'

const inOrg = z.object({ orgId: idSchema })

export const renameOrganization = defineAction(
  renameOrganizationInput.extend(inOrg.shape),
  async ({ orgId, name }) => {
    const result = await callApi((api) =>
      api.PATCH('/v1/orgs/{orgId}', { params: { path: { orgId } }, body: { name } }),
    )
    // The name shows in the switcher on every page.
    if (result.ok) revalidatePath('/', 'layout')
    return result
  },
)

export const deleteOrganization = defineAction(inOrg, async ({ orgId }) => {
  const result = await callApi((api) =>
    api.DELETE('/v1/orgs/{orgId}', { params: { path: { orgId } } }),
  )
  if (!result.ok) return result
  redirect('/orgs')
})
