'use server'

import { deadLetterParams } from '@repo/schemas'
import { revalidatePath } from 'next/cache'
import { redirect } from 'next/navigation'
import { z } from 'zod'
import { defineAction } from '@/lib/server/action.ts'
import { callApi } from '@/lib/server/api.ts'

const PATH = '/admin/dead-letters'

export const replayDeadLetter = defineAction(deadLetterParams, async ({ id }) => {
  const result = await callApi((api) =>
    api.POST('/v1/admin/dead-letters/{id}/replay', { params: { path: { id } } }),
  )
  if (!result.ok) return result
  revalidatePath(PATH)
  redirect(`${PATH}?replayed=1`)
})

export const purgeDeadLetter = defineAction(deadLetterParams, async ({ id }) => {
  const result = await callApi((api) =>
    api.DELETE('/v1/admin/dead-letters/{id}', { params: { path: { id } } }),
  )
  if (!result.ok) return result
  revalidatePath(PATH)
  redirect(`${PATH}?purged=1`)
})

export const replayAll = defineAction(z.object({}), async () => {
  const result = await callApi((api) => api.POST('/v1/admin/dead-letters/replay-all'))
  if (result.ok) revalidatePath(PATH)
  return result
})

export const purgeAll = defineAction(z.object({}), async () => {
  const result = await callApi((api) => api.DELETE('/v1/admin/dead-letters'))
  if (result.ok) revalidatePath(PATH)
  return result
})

/** A short-lived link that signs the operator into the queue dashboard (Bull Board). */
export const queueDashboardLink = defineAction(z.object({}), async () =>
  callApi((api) => api.POST('/v1/admin/queue-dashboard/links')),
)
