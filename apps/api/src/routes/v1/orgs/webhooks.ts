import {
  createWebhookEndpoint,
  deleteWebhookEndpoint,
  getWebhookDelivery,
  getWebhookEndpoint,
  listWebhookDeliveries,
  listWebhookEndpoints,
  redeliverWebhook,
  rotateWebhookSecret,
  updateWebhookEndpoint,
} from '@repo/core'
import type { WebhookDelivery, WebhookDeliveryAttempt } from '@repo/db'
import {
  createWebhookEndpointInput,
  listQuery,
  listWebhookDeliveriesQuery,
  orgParams,
  updateWebhookEndpointInput,
  type WebhookEventType,
  webhookDeliveryParams,
  webhookDeliveryStatus,
  webhookEndpointParams,
  webhookEventType,
} from '@repo/schemas'
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod'
import { z } from 'zod'
import { expectedVersion, setEtag } from '../../../lib/preconditions.ts'
import { problemSchema } from '../../../lib/problem.ts'
import { requestMeta } from '../../../lib/request-meta.ts'
import { pageOf, tenantProblems, versionedProblems } from '../../../schemas/common.ts'
import { ifMatch } from './projects.ts'

const endpointSchema = z
  .object({
    id: z.string(),
    url: z.string(),
    description: z.string(),
    events: z.array(webhookEventType),
    enabled: z.boolean(),
    disabledAt: z.iso.datetime().nullable(),
    disabledReason: z.string().nullable(),
    consecutiveFailures: z
      .number()
      .int()
      .describe('Deliveries in a row that failed all their attempts; a success resets it.'),
    circuitOpenUntil: z.iso
      .datetime()
      .nullable()
      .describe(
        'Set after several attempts in a row failed: until then attempts are logged as held back, not sent; the first one after it tests the endpoint.',
      ),
    previousSecretExpiresAt: z.iso
      .datetime()
      .nullable()
      .describe('Until then, deliveries are signed with the previous secret too.'),
    version: z.number().int().describe('Send it back as If-Match: "<version>" to change it.'),
    createdAt: z.iso.datetime(),
    updatedAt: z.iso.datetime(),
  })
  .meta({ id: 'WebhookEndpoint' })
type EndpointRow = Awaited<ReturnType<typeof getWebhookEndpoint>>
const toEndpoint = (e: EndpointRow) => ({
  id: e.id,
  url: e.url,
  description: e.description,
  events: e.events as WebhookEventType[],
  enabled: e.disabledAt === null,
  disabledAt: e.disabledAt?.toISOString() ?? null,
  disabledReason: e.disabledReason,
  consecutiveFailures: e.consecutiveFailures,
  circuitOpenUntil:
    e.circuitOpenUntil && e.circuitOpenUntil > new Date() ? e.circuitOpenUntil.toISOString() : null,
  previousSecretExpiresAt:
    e.previousSecretExpiresAt && e.previousSecretExpiresAt > new Date()
      ? e.previousSecretExpiresAt.toISOString()
      : null,
  version: e.version,
  createdAt: e.createdAt.toISOString(),
  updatedAt: e.updatedAt.toISOString(),
})
const withSecret = endpointSchema
  .extend({
    secret: z
      .string()
      .describe('The signing secret (whsec_...), shown once: verify deliveries with it.'),
  })
  .meta({ id: 'WebhookEndpointWithSecret' })

const attemptSchema = z
  .object({
    attempt: z.number().int(),
    startedAt: z.iso.datetime(),
    durationMs: z.number().int(),
    succeeded: z.boolean(),
    responseStatus: z.number().int().nullable(),
    responseBody: z.string().nullable().describe("The first 2 KB of the endpoint's answer."),
    error: z.string().nullable(),
  })
  .meta({ id: 'WebhookDeliveryAttempt' })
const deliverySchema = z
  .object({
    id: z.string(),
    eventId: z.string().describe('The webhook-id header: the same on every retry.'),
    eventType: webhookEventType,
    status: webhookDeliveryStatus,
    attemptCount: z.number().int(),
    payload: z.record(z.string(), z.unknown()),
    createdAt: z.iso.datetime(),
    lastAttemptAt: z.iso.datetime().nullable(),
    completedAt: z.iso.datetime().nullable(),
  })
  .meta({ id: 'WebhookDelivery' })
const toDelivery = (d: WebhookDelivery) => ({
  id: d.id,
  eventId: d.eventId,
  eventType: d.eventType as WebhookEventType,
  status: d.status,
  attemptCount: d.attemptCount,
  payload: d.payload as Record<string, unknown>,
  createdAt: d.createdAt.toISOString(),
  lastAttemptAt: d.lastAttemptAt?.toISOString() ?? null,
  completedAt: d.completedAt?.toISOString() ?? null,
})
const toAttempt = (a: WebhookDeliveryAttempt) => ({
  attempt: a.attempt,
  startedAt: a.startedAt.toISOString(),
  durationMs: a.durationMs,
  succeeded: a.succeeded,
  responseStatus: a.responseStatus,
  responseBody: a.responseBody,
  error: a.error,
})

const admin = { organizationRole: 'admin' } as const

/**
 * Outgoing webhooks of an organization: /v1/orgs/:orgId/webhook-endpoints/* (admins).
 * Endpoints, their secrets, and the log of every delivery and attempt.
 */
const webhooks: FastifyPluginAsyncZod = async (fastify) => {
  fastify.post(
    '/:orgId/webhook-endpoints',
    {
      config: { access: admin, recentAuth: true, answerHoldsSecret: true },
      schema: {
        tags: ['webhooks'],
        summary:
          'Register an endpoint for events (needs a verified email and a recent sign-in). The signing secret is shown once, in this answer.',
        params: orgParams,
        body: createWebhookEndpointInput,
        response: { 201: withSecret, ...tenantProblems, 422: problemSchema },
      },
    },
    async (request, reply) => {
      const tenant = request.tenant as NonNullable<typeof request.tenant>
      const auth = request.auth as NonNullable<typeof request.auth>
      const { endpoint, secret } = await createWebhookEndpoint(
        fastify.deps,
        { ...tenant, emailVerified: auth.user.emailVerifiedAt !== null },
        request.body,
        requestMeta(request),
      )
      setEtag(reply, endpoint.version)
      reply.header('location', `/v1/orgs/${tenant.organizationId}/webhook-endpoints/${endpoint.id}`)
      return reply.code(201).send({ ...toEndpoint(endpoint), secret })
    },
  )

  fastify.get(
    '/:orgId/webhook-endpoints',
    {
      config: { access: admin },
      schema: {
        tags: ['webhooks'],
        summary: "The organization's webhook endpoints, newest first (never their secrets).",
        params: orgParams,
        querystring: listQuery,
        response: { 200: pageOf(endpointSchema), ...tenantProblems },
      },
    },
    async (request) => {
      const tenant = request.tenant as NonNullable<typeof request.tenant>
      const page = await listWebhookEndpoints(fastify.deps, tenant, request.query)
      return { data: page.data.map(toEndpoint), nextCursor: page.nextCursor }
    },
  )

  fastify.get(
    '/:orgId/webhook-endpoints/:endpointId',
    {
      config: { access: admin },
      schema: {
        tags: ['webhooks'],
        summary: 'One endpoint, with its version as the ETag.',
        params: webhookEndpointParams,
        response: { 200: endpointSchema, ...tenantProblems },
      },
    },
    async (request, reply) => {
      const tenant = request.tenant as NonNullable<typeof request.tenant>
      const endpoint = await getWebhookEndpoint(fastify.deps, tenant, request.params)
      setEtag(reply, endpoint.version)
      return toEndpoint(endpoint)
    },
  )

  fastify.patch(
    '/:orgId/webhook-endpoints/:endpointId',
    {
      config: {
        access: admin,
        // Pointing deliveries somewhere new is sensitive; other changes are not.
        recentAuth: (request) => (request.body as { url?: string }).url !== undefined,
      },
      schema: {
        tags: ['webhooks'],
        summary:
          'Change an endpoint; `enabled: true` turns a disabled one back on (and clears its failures). If-Match is required; a new URL needs a verified email and a recent sign-in.',
        params: webhookEndpointParams,
        headers: ifMatch,
        body: updateWebhookEndpointInput,
        response: { 200: endpointSchema, ...versionedProblems, 422: problemSchema },
      },
    },
    async (request, reply) => {
      const tenant = request.tenant as NonNullable<typeof request.tenant>
      const auth = request.auth as NonNullable<typeof request.auth>
      const endpoint = await updateWebhookEndpoint(
        fastify.deps,
        { ...tenant, emailVerified: auth.user.emailVerifiedAt !== null },
        {
          endpointId: request.params.endpointId,
          expectedVersion: expectedVersion(request, true),
          changes: request.body,
        },
        requestMeta(request),
      )
      setEtag(reply, endpoint.version)
      return toEndpoint(endpoint)
    },
  )

  fastify.delete(
    '/:orgId/webhook-endpoints/:endpointId',
    {
      config: { access: admin },
      schema: {
        tags: ['webhooks'],
        summary: 'Delete an endpoint and its delivery log. If-Match is optional here.',
        params: webhookEndpointParams,
        headers: ifMatch,
        response: { 204: z.null(), ...versionedProblems },
      },
    },
    async (request, reply) => {
      const tenant = request.tenant as NonNullable<typeof request.tenant>
      await deleteWebhookEndpoint(
        fastify.deps,
        tenant,
        {
          endpointId: request.params.endpointId,
          expectedVersion: expectedVersion(request, false),
        },
        requestMeta(request),
      )
      return reply.code(204).send(null)
    },
  )

  fastify.post(
    '/:orgId/webhook-endpoints/:endpointId/rotate-secret',
    {
      config: { access: admin, recentAuth: true, answerHoldsSecret: true },
      schema: {
        tags: ['webhooks'],
        summary:
          'Replace the signing secret (needs a recent sign-in). The new one is shown once; the previous one keeps signing beside it for the grace period.',
        params: webhookEndpointParams,
        response: { 200: withSecret, ...tenantProblems },
      },
    },
    async (request, reply) => {
      const tenant = request.tenant as NonNullable<typeof request.tenant>
      const { endpoint, secret } = await rotateWebhookSecret(
        fastify.deps,
        tenant,
        request.params,
        requestMeta(request),
      )
      setEtag(reply, endpoint.version)
      return { ...toEndpoint(endpoint), secret }
    },
  )

  fastify.get(
    '/:orgId/webhook-endpoints/:endpointId/deliveries',
    {
      config: { access: admin },
      schema: {
        tags: ['webhooks'],
        summary: "The endpoint's deliveries, newest first, optionally of one status.",
        params: webhookEndpointParams,
        querystring: listWebhookDeliveriesQuery,
        response: { 200: pageOf(deliverySchema), ...tenantProblems },
      },
    },
    async (request) => {
      const tenant = request.tenant as NonNullable<typeof request.tenant>
      const page = await listWebhookDeliveries(fastify.deps, tenant, {
        ...request.query,
        endpointId: request.params.endpointId,
      })
      return { data: page.data.map(toDelivery), nextCursor: page.nextCursor }
    },
  )

  fastify.get(
    '/:orgId/webhook-endpoints/:endpointId/deliveries/:deliveryId',
    {
      config: { access: admin },
      schema: {
        tags: ['webhooks'],
        summary: 'One delivery with every attempt: when, how long, the answer or the error.',
        params: webhookDeliveryParams,
        response: {
          200: deliverySchema.extend({ attempts: z.array(attemptSchema) }),
          ...tenantProblems,
        },
      },
    },
    async (request) => {
      const tenant = request.tenant as NonNullable<typeof request.tenant>
      const delivery = await getWebhookDelivery(fastify.deps, tenant, request.params)
      return { ...toDelivery(delivery), attempts: delivery.attempts.map(toAttempt) }
    },
  )

  fastify.post(
    '/:orgId/webhook-endpoints/:endpointId/deliveries/:deliveryId/redeliver',
    {
      config: { access: admin },
      schema: {
        tags: ['webhooks'],
        summary:
          'Send a finished delivery again, with a fresh set of retries (202). 409 while it is pending or the endpoint is disabled.',
        params: webhookDeliveryParams,
        response: { 202: deliverySchema, ...tenantProblems, 409: problemSchema },
      },
    },
    async (request, reply) => {
      const tenant = request.tenant as NonNullable<typeof request.tenant>
      const delivery = await redeliverWebhook(
        fastify.deps,
        tenant,
        request.params,
        requestMeta(request),
      )
      return reply.code(202).send(toDelivery(delivery))
    },
  )
}

export default webhooks
