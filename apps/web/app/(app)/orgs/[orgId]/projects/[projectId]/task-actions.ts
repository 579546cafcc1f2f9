'use server'

import { idSchema } from '@repo/schemas'
import { revalidatePath } from 'next/cache'
import { z } from 'zod'
import { defineAction } from '@/lib/server/action.ts'
import { callApi } from '@/lib/server/api.ts'
import { createTaskForm, updateTaskForm } from '@/lib/task-form.ts'

const inProject = z.object({ orgId: idSchema, projectId: idSchema })
const oneTask = inProject.extend({ taskId: idSchema })

const projectPath = (orgId: string, projectId: string) => `/orgs/${orgId}/projects/${projectId}`

export const createTask = defineAction(
  createTaskForm.extend(inProject.shape),
  async ({ orgId, projectId, ...body }) => {
    const result = await callApi((api) =>
      api.POST('/v1/orgs/{orgId}/projects/{projectId}/tasks', {
        params: { path: { orgId, projectId } },
        body,
      }),
    )
    if (result.ok) revalidatePath(projectPath(orgId, projectId))
    return result
  },
)

export const updateTask = defineAction(
  updateTaskForm.extend(oneTask.shape).extend({ version: z.coerce.number().int().positive() }),
  async ({ orgId, projectId, taskId, version, ...body }) => {
    const result = await callApi((api) =>
      api.PATCH('/v1/orgs/{orgId}/projects/{projectId}/tasks/{taskId}', {
        params: { path: { orgId, projectId, taskId }, header: { 'if-match': `"${version}"` } },
        body,
      }),
    )
    if (result.ok) revalidatePath(projectPath(orgId, projectId))
    return result
  },
)

export const deleteTask = defineAction(oneTask, async ({ orgId, projectId, taskId }) => {
  const result = await callApi((api) =>
    api.DELETE('/v1/orgs/{orgId}/projects/{projectId}/tasks/{taskId}', {
      params: { path: { orgId, projectId, taskId } },
    }),
  )
  if (result.ok) revalidatePath(projectPath(orgId, projectId))
  return result
})

export const readTask = defineAction(oneTask, async ({ orgId, projectId, taskId }) =>
  callApi((api) =>
    api.GET('/v1/orgs/{orgId}/projects/{projectId}/tasks/{taskId}', {
      params: { path: { orgId, projectId, taskId } },
    }),
  ),
)
