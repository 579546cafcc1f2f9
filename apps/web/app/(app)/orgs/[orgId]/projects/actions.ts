'use server'

import { createProjectInput, idSchema, updateProjectInput } from '@repo/schemas'
import { revalidatePath } from 'next/cache'
import { redirect } from 'next/navigation'
import { z } from 'zod'
import { defineAction } from '@/lib/server/action.ts'
import { callApi } from '@/lib/server/api.ts'

const inOrg = z.object({ orgId: idSchema })
const project = inOrg.extend({ projectId: idSchema })
/** The version the user's edit is based on: sent as If-Match, so no change is overwritten. */
const basedOn = z.object({ version: z.coerce.number().int().positive() })

export const createProject = defineAction(
  createProjectInput.extend(inOrg.shape),
  async ({ orgId, ...body }) => {
    const result = await callApi((api) =>
      api.POST('/v1/orgs/{orgId}/projects', { params: { path: { orgId } }, body }),
    )
    if (!result.ok) return result
    redirect(`/orgs/${orgId}/projects/${result.data.id}`)
  },
)

export const updateProject = defineAction(
  updateProjectInput.extend(project.shape).extend(basedOn.shape),
  async ({ orgId, projectId, version, ...body }) => {
    const result = await callApi((api) =>
      api.PATCH('/v1/orgs/{orgId}/projects/{projectId}', {
        params: { path: { orgId, projectId }, header: { 'if-match': `"${version}"` } },
        body,
      }),
    )
    if (result.ok) revalidatePath(`/orgs/${orgId}/projects/${projectId}`)
    return result
  },
)

export const deleteProject = defineAction(project, async ({ orgId, projectId }) => {
  const result = await callApi((api) =>
    api.DELETE('/v1/orgs/{orgId}/projects/{projectId}', {
      params: { path: { orgId, projectId } },
    }),
  )
  if (!result.ok) return result
  redirect(`/orgs/${orgId}/projects`)
})

/** The project as it is now: for the "someone else changed it" choice after a 412. */
export const readProject = defineAction(project, async ({ orgId, projectId }) =>
  callApi((api) =>
    api.GET('/v1/orgs/{orgId}/projects/{projectId}', { params: { path: { orgId, projectId } } }),
  ),
)
