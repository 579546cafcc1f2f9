import {
  deleteProject,
  getProject,
  insertProject,
  listProjects,
  newProject,
  projectView,
  updateProject,
} from '@repo/core'
import {
  createProjectInput,
  listProjectsQuery,
  orgParams,
  projectParams,
  projectStatus,
  updateProjectInput,
} from '@repo/schemas'
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod'
import { z } from 'zod'
import { etag, expectedVersion, setEtag } from '../../../lib/preconditions.ts'
import { problemSchema } from '../../../lib/problem.ts'
import { PRODUCT_EVENTS, trackProductEvent } from '../../../lib/product-events.ts'
import { requestMeta } from '../../../lib/request-meta.ts'
import { pageOf, tenantProblems, versionedProblems } from '../../../schemas/common.ts'

const projectSchema = z
  .object({
    id: z.string(),
    name: z.string(),
    description: z.string(),
    status: projectStatus,
    version: z
      .number()
      .int()
      .describe('Send it back as If-Match: "<version>" to change the project.'),
    createdAt: z.iso.datetime(),
    updatedAt: z.iso.datetime(),
  })
  .meta({ id: 'Project' })

const toProject = projectView

const read = { organizationRole: 'member', apiKeyScope: 'projects:read' } as const
const write = { organizationRole: 'member', apiKeyScope: 'projects:write' } as const
// Loose: other headers (authorization, idempotency-key) pass through untouched.
export const ifMatch = z.object({ 'if-match': z.string().max(200).optional() }).loose()

/** Projects of an organization: /v1/orgs/:orgId/projects/* (members; keys with projects:*). */
const projects: FastifyPluginAsyncZod = async (fastify) => {
  fastify.post(
    '/:orgId/projects',
    {
      // One write, its answer built before it: the Idempotency-Key is claimed, and the
      // answer stored, in the write's own round trip (ADR 046).
      config: { access: write, idempotency: 'in-write' },
      schema: {
        tags: ['projects'],
        summary: 'Create a project. Names are unique within the organization (409 otherwise).',
        params: orgParams,
        body: createProjectInput,
        response: { 201: projectSchema, ...tenantProblems, 409: problemSchema },
      },
    },
    async (request, reply) => {
      const tenant = request.tenant as NonNullable<typeof request.tenant>
      const project = newProject(tenant, request.body)
      await reply.sendWithWrite(
        {
          status: 201,
          headers: {
            etag: etag(project.version),
            location: `/v1/orgs/${tenant.organizationId}/projects/${project.id}`,
          },
          payload: toProject(project),
        },
        () => insertProject(fastify.deps, tenant, project, requestMeta(request)),
      )
      if (reply.getHeader('idempotent-replayed') === undefined)
        trackProductEvent(request, PRODUCT_EVENTS.projectCreated, {
          userId: tenant.userId,
          organizationId: tenant.organizationId,
        })
      return reply
    },
  )

  fastify.get(
    '/:orgId/projects',
    {
      config: { access: read },
      schema: {
        tags: ['projects'],
        summary: "The organization's projects, filtered and sorted (newest first by default).",
        params: orgParams,
        querystring: listProjectsQuery,
        response: { 200: pageOf(projectSchema), ...tenantProblems },
      },
    },
    async (request) => {
      const tenant = request.tenant as NonNullable<typeof request.tenant>
      // Already as callers see them (projectView's fields, ISO timestamps from the SQL).
      return listProjects(fastify.deps, tenant, request.query)
    },
  )

  fastify.get(
    '/:orgId/projects/:projectId',
    {
      config: { access: read },
      schema: {
        tags: ['projects'],
        summary: 'One project, with its version as the ETag.',
        params: projectParams,
        response: { 200: projectSchema, ...tenantProblems },
      },
    },
    async (request, reply) => {
      const tenant = request.tenant as NonNullable<typeof request.tenant>
      const project = await getProject(fastify.deps, tenant, request.params)
      setEtag(reply, project.version)
      return toProject(project)
    },
  )

  fastify.patch(
    '/:orgId/projects/:projectId',
    {
      config: { access: write },
      schema: {
        tags: ['projects'],
        summary:
          'Change a project. If-Match with its ETag is required: 412 if it changed since, 428 without.',
        params: projectParams,
        headers: ifMatch,
        body: updateProjectInput,
        response: { 200: projectSchema, ...versionedProblems, 409: problemSchema },
      },
    },
    async (request, reply) => {
      const tenant = request.tenant as NonNullable<typeof request.tenant>
      const project = await updateProject(
        fastify.deps,
        tenant,
        {
          projectId: request.params.projectId,
          expectedVersion: expectedVersion(request, true),
          changes: request.body,
        },
        requestMeta(request),
      )
      setEtag(reply, project.version)
      return toProject(project)
    },
  )

  fastify.delete(
    '/:orgId/projects/:projectId',
    {
      config: { access: { organizationRole: 'admin', apiKeyScope: 'projects:write' } },
      schema: {
        tags: ['projects'],
        summary: 'Delete a project and all its tasks (admins). If-Match is optional here.',
        params: projectParams,
        headers: ifMatch,
        response: { 204: z.null(), ...versionedProblems },
      },
    },
    async (request, reply) => {
      const tenant = request.tenant as NonNullable<typeof request.tenant>
      await deleteProject(
        fastify.deps,
        tenant,
        { projectId: request.params.projectId, expectedVersion: expectedVersion(request, false) },
        requestMeta(request),
      )
      return reply.code(204).send(null)
    },
  )
}

export default projects
