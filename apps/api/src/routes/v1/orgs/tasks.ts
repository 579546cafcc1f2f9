import { createTask, deleteTask, getTask, listTasks, taskView, updateTask } from '@repo/core'
import {
  createTaskInput,
  listTasksQuery,
  projectParams,
  taskParams,
  taskPriority,
  taskStatus,
  updateTaskInput,
} from '@repo/schemas'
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod'
import { z } from 'zod'
import { expectedVersion, setEtag } from '../../../lib/preconditions.ts'
import { problemSchema } from '../../../lib/problem.ts'
import { requestMeta } from '../../../lib/request-meta.ts'
import { pageOf, tenantProblems, versionedProblems } from '../../../schemas/common.ts'
import { ifMatch } from './projects.ts'

const taskSchema = z
  .object({
    id: z.string(),
    projectId: z.string(),
    title: z.string(),
    description: z.string(),
    status: taskStatus,
    priority: taskPriority,
    assigneeId: z.string().nullable(),
    dueDate: z.iso.date().nullable(),
    version: z.number().int().describe('Send it back as If-Match: "<version>" to change the task.'),
    createdAt: z.iso.datetime(),
    updatedAt: z.iso.datetime(),
  })
  .meta({ id: 'Task' })

const toTask = taskView

const read = { organizationRole: 'member', apiKeyScope: 'projects:read' } as const
const write = { organizationRole: 'member', apiKeyScope: 'projects:write' } as const
const base = '/:orgId/projects/:projectId/tasks'

/** Tasks of a project: /v1/orgs/:orgId/projects/:projectId/tasks/* (members). */
const tasks: FastifyPluginAsyncZod = async (fastify) => {
  fastify.post(
    base,
    {
      config: { access: write },
      schema: {
        tags: ['tasks'],
        summary: 'Add a task to a project. The assignee must be a member (422 otherwise).',
        params: projectParams,
        body: createTaskInput,
        response: { 201: taskSchema, ...tenantProblems, 422: problemSchema },
      },
    },
    async (request, reply) => {
      const tenant = request.tenant as NonNullable<typeof request.tenant>
      const { projectId } = request.params
      const task = await createTask(
        fastify.deps,
        tenant,
        { projectId, task: request.body },
        requestMeta(request),
      )
      setEtag(reply, task.version)
      reply.header(
        'location',
        `/v1/orgs/${tenant.organizationId}/projects/${projectId}/tasks/${task.id}`,
      )
      return reply.code(201).send(toTask(task))
    },
  )

  fastify.get(
    base,
    {
      config: { access: read },
      schema: {
        tags: ['tasks'],
        summary: "A project's tasks, filtered and sorted (newest first by default).",
        params: projectParams,
        querystring: listTasksQuery,
        response: { 200: pageOf(taskSchema), ...tenantProblems },
      },
    },
    async (request) => {
      const tenant = request.tenant as NonNullable<typeof request.tenant>
      const page = await listTasks(fastify.deps, tenant, {
        ...request.query,
        projectId: request.params.projectId,
      })
      return { data: page.data.map(toTask), nextCursor: page.nextCursor }
    },
  )

  fastify.get(
    `${base}/:taskId`,
    {
      config: { access: read },
      schema: {
        tags: ['tasks'],
        summary: 'One task, with its version as the ETag.',
        params: taskParams,
        response: { 200: taskSchema, ...tenantProblems },
      },
    },
    async (request, reply) => {
      const tenant = request.tenant as NonNullable<typeof request.tenant>
      const task = await getTask(fastify.deps, tenant, request.params)
      setEtag(reply, task.version)
      return toTask(task)
    },
  )

  fastify.patch(
    `${base}/:taskId`,
    {
      config: { access: write },
      schema: {
        tags: ['tasks'],
        summary:
          'Change a task. If-Match with its ETag is required: 412 if it changed since, 428 without.',
        params: taskParams,
        headers: ifMatch,
        body: updateTaskInput,
        response: { 200: taskSchema, ...versionedProblems, 422: problemSchema },
      },
    },
    async (request, reply) => {
      const tenant = request.tenant as NonNullable<typeof request.tenant>
      const task = await updateTask(
        fastify.deps,
        tenant,
        {
          ...request.params,
          expectedVersion: expectedVersion(request, true),
          changes: request.body,
        },
        requestMeta(request),
      )
      setEtag(reply, task.version)
      return toTask(task)
    },
  )

  fastify.delete(
    `${base}/:taskId`,
    {
      config: { access: write },
      schema: {
        tags: ['tasks'],
        summary: 'Delete a task. If-Match is optional here.',
        params: taskParams,
        headers: ifMatch,
        response: { 204: z.null(), ...versionedProblems },
      },
    },
    async (request, reply) => {
      const tenant = request.tenant as NonNullable<typeof request.tenant>
      await deleteTask(
        fastify.deps,
        tenant,
        { ...request.params, expectedVersion: expectedVersion(request, false) },
        requestMeta(request),
      )
      return reply.code(204).send(null)
    },
  )
}

export default tasks
