import { createServer, type IncomingHttpHeaders, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { buildServer } from '@repo/api/build-server'
import { forgetAccess, signUpOwner, testEnv } from '@repo/api/test-helpers'
import { secretsKey } from '@repo/config'
import {
  DEFAULT_QUEUE,
  jobEnvelope,
  jobOptions,
  WEBHOOK_DELIVERIES_QUEUE,
  WEBHOOKS_QUEUE,
  webhookDeliveryJob,
} from '@repo/jobs'
import { createLogger } from '@repo/observability'
import { captureLogs, POISON, poisonedRecord, poisonIn, useIsolatedServices } from '@repo/testing'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createWorker } from '../src/create-worker.ts'
import { webhookHandlers } from '../src/webhooks.ts'
import { ownerQuery } from './helpers.ts'
import { startPipeline } from './pipeline.ts'

// One request id from the caller to the webhook receiver, through the real pieces: the
// API (its env-built logger read back), the outbox in Postgres, the relay, BullMQ on
// Redis, the worker's fan-out and delivery jobs, and an HTTP receiver on loopback. And a
// job that carries secrets and fails mentioning a token leaves none of them in the logs.
const services = useIsolatedServices()
const apiLogs = captureLogs()
const workerLogs = captureLogs()
const workerLogger = createLogger({
  service: 'worker',
  level: 'debug',
  pretty: false,
  version: '9.9.9',
  environment: 'staging',
  destination: workerLogs.destination,
})
const received: { path: string; headers: IncomingHttpHeaders }[] = []
let receiver: Server
let base = ''
let api: Awaited<ReturnType<typeof buildServer>>
let pipeline: ReturnType<typeof startPipeline>

beforeAll(async () => {
  receiver = createServer((request, response) => {
    received.push({ path: request.url ?? '/', headers: request.headers })
    request.resume().on('end', () => response.writeHead(204).end())
  })
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve))
  base = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}`

  const { database, redis } = services()
  const env = testEnv({
    DATABASE_URL: database.appUrl,
    REDIS_URL: redis.url,
    LOG_LEVEL: 'info',
    WEBHOOKS_ALLOW_PRIVATE_TARGETS: 'true',
  })
  api = await buildServer(env, { logDestination: apiLogs.destination })
  await api.ready()

  pipeline = startPipeline(services(), workerLogger)
  const handlers = webhookHandlers({
    db: pipeline.workerDb,
    // The API's key: the worker opens the signing secrets the API sealed.
    secretsKey: secretsKey(env),
    allowPrivateTargets: true,
    timeoutMs: 2_000,
    disableAfterFailures: 5,
    appUrl: 'https://app.example.com',
  })
  const { connection } = pipeline
  const careless = {
    // What careless handler code does: log the job's data, then fail mentioning a token.
    'test.poisoned': async (job: { data: unknown }, context: { logger: typeof workerLogger }) => {
      context.logger.info({ data: job.data }, `processing for ${POISON.email}`)
      throw new Error(`refresh failed: refresh_token=${POISON.errorToken} user ${POISON.email}`)
    },
  }
  pipeline.workers.push(
    createWorker({
      queue: WEBHOOKS_QUEUE,
      connection,
      handlers: handlers.events,
      concurrency: 1,
      logger: workerLogger,
    }),
    createWorker({
      queue: WEBHOOK_DELIVERIES_QUEUE,
      connection,
      handlers: handlers.deliveries,
      concurrency: 1,
      logger: workerLogger,
    }),
    createWorker({
      queue: DEFAULT_QUEUE,
      connection,
      handlers: careless,
      concurrency: 1,
      logger: workerLogger,
    }),
  )
})

afterAll(async () => {
  await pipeline?.stop()
  await api?.close()
  await new Promise((resolve) => receiver?.close(resolve))
})

describe('one request id', () => {
  it('joins the API request, the jobs it caused and the outgoing webhook', async () => {
    const owner = await signUpOwner(api, 'Traced')
    await ownerQuery(
      services().database.url,
      'UPDATE users SET email_verified_at = now() WHERE id = $1',
      [owner.userId],
    )
    // Behind the API's back: it forgets the user it kept (ADR 035).
    forgetAccess(api)
    const endpoint = await api.inject({
      method: 'POST',
      url: `/v1/orgs/${owner.orgId}/webhook-endpoints`,
      headers: owner.headers,
      payload: { url: `${base}/hooks`, events: ['project.created'] },
    })
    expect(endpoint.statusCode).toBe(201)

    const created = await api.inject({
      method: 'POST',
      url: `/v1/orgs/${owner.orgId}/projects`,
      headers: { ...owner.headers, 'x-request-id': 'from-the-caller-1' },
      payload: { name: 'Traced project' },
    })
    expect(created.statusCode).toBe(201)
    expect(created.headers['x-request-id']).toBe('from-the-caller-1')

    // The API's request line.
    expect(
      apiLogs
        .lines()
        .filter(
          (line) => line.msg === 'request completed' && line.requestId === 'from-the-caller-1',
        ),
    ).toMatchObject([
      { route: '/v1/orgs/:orgId/projects', status: 201, organizationId: owner.orgId },
    ])

    // The receiver's request.
    await expect.poll(() => received.filter((r) => r.path === '/hooks').length).toBe(1)
    expect(received.find((r) => r.path === '/hooks')?.headers['x-request-id']).toBe(
      'from-the-caller-1',
    )

    // The worker's lines: the fan-out job's own line and each job's completion.
    const ofRequest = () =>
      workerLogs.lines().filter((line) => line.requestId === 'from-the-caller-1')
    await expect
      .poll(() => ofRequest().filter((line) => line.msg === 'job completed').length)
      .toBe(2)
    expect(ofRequest()).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          msg: 'webhook event fanned out',
          job: 'webhooks.event',
          organizationId: owner.orgId,
          service: 'worker',
        }),
        expect.objectContaining({ msg: 'job completed', job: 'webhooks.deliver' }),
      ]),
    )
  })
})

describe('a request id in job data', () => {
  it('that is not plain is not sent to a receiver, and the delivery still goes out', async () => {
    const owner = await signUpOwner(api, 'Hostile')
    const sql = (query: string, values: unknown[]) =>
      ownerQuery(services().database.url, query, values)
    await sql('UPDATE users SET email_verified_at = now() WHERE id = $1', [owner.userId])
    forgetAccess(api)
    const endpoint = await api.inject({
      method: 'POST',
      url: `/v1/orgs/${owner.orgId}/webhook-endpoints`,
      headers: owner.headers,
      payload: { url: `${base}/hostile`, events: ['project.created'] },
    })
    const [delivery] = (await sql(
      `INSERT INTO webhook_deliveries (id, organization_id, endpoint_id, event_id, event_type, payload)
       VALUES (gen_random_uuid(), $1, $2, 'msg_hostile', 'project.created', '{"type":"project.created"}')
       RETURNING id`,
      [owner.orgId, endpoint.json().id],
    )) as { id: string }[]
    // A hand-edited or older producer's job: the context schema bounds only the length.
    await pipeline.producers
      .get(WEBHOOK_DELIVERIES_QUEUE)
      .add(
        webhookDeliveryJob.name,
        jobEnvelope(
          webhookDeliveryJob,
          { deliveryId: delivery?.id ?? '' },
          { organizationId: owner.orgId, requestId: 'evil\r\nx-injected: 1' },
        ),
        jobOptions(webhookDeliveryJob),
      )
    await expect.poll(() => received.filter((r) => r.path === '/hostile').length).toBe(1)
    const headers = received.find((r) => r.path === '/hostile')?.headers ?? {}
    expect(headers['x-request-id']).toBeUndefined()
    expect(headers['x-injected']).toBeUndefined()
  })
})

describe('worker logs', () => {
  it('redact a poisoned job and its failure, keeping its context', async () => {
    // Job data is JSON: the record without its Error.
    const { err: _err, ...data } = poisonedRecord()
    await pipeline.producers.get(DEFAULT_QUEUE).add(
      'test.poisoned',
      {
        payload: data,
        context: { requestId: 'poisoned-job-1', organizationId: crypto.randomUUID() },
      },
      { attempts: 1 },
    )
    const ofJob = () => workerLogs.lines().filter((line) => line.requestId === 'poisoned-job-1')
    await expect.poll(() => ofJob().some((line) => line.msg === 'job failed')).toBe(true)

    expect(poisonIn(workerLogs.text())).toEqual([])
    const processing = ofJob().find((line) => String(line.msg).startsWith('processing'))
    expect(processing).toMatchObject({
      msg: 'processing for [email]',
      job: 'test.poisoned',
      data: {
        payload: {
          harmless: 'visible-field',
          password: '[redacted]',
          user: { email: '[email]', credentials: '[redacted]' },
          headers: { authorization: '[redacted]', cookie: '[redacted]' },
          mfa: { totpCode: '[redacted]' },
          note: 'contact [email] about it',
        },
      },
    })
    expect(ofJob().find((line) => line.msg === 'job failed')).toMatchObject({
      level: 'error',
      err: { message: 'refresh failed: refresh_token=[redacted] user [email]' },
    })
  })
})
