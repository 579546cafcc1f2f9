'use server'

import { idSchema } from '@repo/schemas'
import { revalidatePath } from 'next/cache'
import { z } from 'zod'
import { defineAction } from '@/lib/server/action.ts'
import { callApi } from '@/lib/server/api.ts'
import { apiKeyForm } from './form.ts'

const inOrg = z.object({ orgId: idSchema })

/** Answers the key itself: the only time anyone sees it. */
export const createApiKey = defineAction(
  apiKeyForm.extend(inOrg.shape),
  async ({ orgId, ...body }) => {
    const result = await callApi((api) =>
      api.POST('/v1/orgs/{orgId}/api-keys', { params: { path: { orgId } }, body }),
    )
    if (result.ok) revalidatePath(`/orgs/${orgId}/api-keys`)
    return result
  },
)

export const revokeApiKey = defineAction(
  inOrg.extend({ apiKeyId: idSchema }),
  async ({ orgId, apiKeyId }) => {
    const result = await callApi((api) =>
      api.DELETE('/v1/orgs/{orgId}/api-keys/{apiKeyId}', { params: { path: { orgId, apiKeyId } } }),
    )
    if (result.ok) revalidatePath(`/orgs/${orgId}/api-keys`)
    return result
  },
)
