'use server'

import { idSchema } from '@repo/schemas'
import { revalidatePath } from 'next/cache'
import { redirect } from 'next/navigation'
import { z } from 'zod'
import { defineAction } from '@/lib/server/action.ts'
import { callApi } from '@/lib/server/api.ts'
import { createEndpointForm, updateEndpointForm } from './form.ts'

const inOrg = z.object({ orgId: idSchema })
const endpoint = inOrg.extend({ endpointId: idSchema })
const delivery = endpoint.extend({ deliveryId: idSchema })
const base = (orgId: string) => `/orgs/${orgId}/webhooks`

/** Answers the signing secret: the only time anyone sees it. */
export const createEndpoint = defineAction(
  createEndpointForm.extend(inOrg.shape),
  async ({ orgId, ...body }) => {
    const result = await callApi((api) =>
      api.POST('/v1/orgs/{orgId}/webhook-endpoints', { params: { path: { orgId } }, body }),
    )
    if (result.ok) revalidatePath(base(orgId))
    return result
  },
)

export const updateEndpoint = defineAction(
  updateEndpointForm.extend(endpoint.shape).extend({ version: z.coerce.number().int().positive() }),
  async ({ orgId, endpointId, version, ...body }) => {
    const result = await callApi((api) =>
      api.PATCH('/v1/orgs/{orgId}/webhook-endpoints/{endpointId}', {
        params: { path: { orgId, endpointId }, header: { 'if-match': `"${version}"` } },
        body,
      }),
    )
    if (result.ok) revalidatePath(`${base(orgId)}/${endpointId}`)
    return result
  },
)

export const readEndpoint = defineAction(endpoint, async ({ orgId, endpointId }) =>
  callApi((api) =>
    api.GET('/v1/orgs/{orgId}/webhook-endpoints/{endpointId}', {
      params: { path: { orgId, endpointId } },
    }),
  ),
)

export const rotateSecret = defineAction(endpoint, async ({ orgId, endpointId }) => {
  const result = await callApi((api) =>
    api.POST('/v1/orgs/{orgId}/webhook-endpoints/{endpointId}/rotate-secret', {
      params: { path: { orgId, endpointId } },
    }),
  )
  if (result.ok) revalidatePath(`${base(orgId)}/${endpointId}`)
  return result
})

export const deleteEndpoint = defineAction(endpoint, async ({ orgId, endpointId }) => {
  const result = await callApi((api) =>
    api.DELETE('/v1/orgs/{orgId}/webhook-endpoints/{endpointId}', {
      params: { path: { orgId, endpointId } },
    }),
  )
  if (!result.ok) return result
  redirect(base(orgId))
})

export const redeliver = defineAction(delivery, async ({ orgId, endpointId, deliveryId }) => {
  const result = await callApi((api) =>
    api.POST('/v1/orgs/{orgId}/webhook-endpoints/{endpointId}/deliveries/{deliveryId}/redeliver', {
      params: { path: { orgId, endpointId, deliveryId } },
    }),
  )
  if (result.ok) revalidatePath(`${base(orgId)}/${endpointId}`)
  return result
})
