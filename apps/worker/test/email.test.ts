import { randomBytes } from 'node:crypto'
import { sealEmailLink } from '@repo/core'
import { EMAIL_JOB, EMAIL_QUEUE, emailJob, enqueueJob } from '@repo/jobs'
import { createLogger } from '@repo/observability'
import { type SmtpSink, startSmtpSink, useIsolatedServices } from '@repo/testing'
import { Worker as BullWorker, type Job, Queue, QueueEvents, type Worker } from 'bullmq'
import { Redis } from 'ioredis'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createWorker } from '../src/create-worker.ts'
import { createEmailHandler } from '../src/email/send-email.ts'

const services = useIsolatedServices()
const key = randomBytes(32)
/** Links with tokens travel sealed, as the API's producers seal them. */
const sealed = (url: string) => sealEmailLink(new URL(url), key)
let sink: SmtpSink
let queue: Queue
let events: QueueEvents
let worker: Worker
let mailer: ReturnType<typeof createEmailHandler>
let redis: Redis

beforeAll(async () => {
  sink = await startSmtpSink()
  const { url } = services().redis
  redis = new Redis(url)
  mailer = createEmailHandler(
    {
      SMTP_URL: sink.url,
      EMAIL_FROM: 'Groundwork <no-reply@groundwork.test>',
      SMTP_TIMEOUT_MS: 5_000,
    },
    redis,
    key,
  )
  worker = createWorker({
    queue: EMAIL_QUEUE,
    connection: { url },
    handlers: { [EMAIL_JOB]: mailer.handler },
    concurrency: 2,
    logger: createLogger({ service: 'worker-test', level: 'silent', pretty: false }),
  })
  queue = new Queue(EMAIL_QUEUE, { connection: { url } })
  events = new QueueEvents(EMAIL_QUEUE, { connection: { url } })
  await events.waitUntilReady()
})
afterAll(async () => {
  await worker?.close()
  mailer?.close()
  await events?.close()
  await queue?.close()
  await sink?.close()
  redis?.disconnect()
})

// Fast retries for the test; the real definition keeps its two-second base delay.
const testJob = { ...emailJob, backoff: { ...emailJob.backoff, delay: 50 } }

describe('transactional email', () => {
  it('renders and delivers a verification email over SMTP', async () => {
    const job = (await enqueueJob(queue, testJob, {
      template: 'verify-email',
      to: 'ada@example.com',
      name: 'Ada',
      sealedUrl: sealed('https://app.example.com/verify-email?token=abc'),
    })) as Job
    await job.waitUntilFinished(events, 10_000)
    const mail = await sink.waitFor((m) => m.to.includes('ada@example.com'))
    expect(mail.subject).toBe('Confirm your email address')
    expect(mail.text).toContain('https://app.example.com/verify-email?token=abc')
    expect(mail.html).toContain('href="https://app.example.com/verify-email?token=abc"')
    expect(mail.messageId).toBe(`<${job.id}@groundwork.test>`)
  })

  it('escapes what users typed in the HTML part', async () => {
    const job = (await enqueueJob(queue, testJob, {
      template: 'invitation',
      to: 'bob@example.com',
      name: 'Bob',
      sealedUrl: sealed('https://app.example.com/invitations/accept?token=x'),
      organizationName: '<script>alert(1)</script>',
      inviterName: 'Eve "the" <b>admin</b>',
    })) as Job
    await job.waitUntilFinished(events, 10_000)
    const mail = await sink.waitFor((m) => m.to.includes('bob@example.com'))
    expect(mail.html).not.toContain('<script>')
    expect(mail.html).toContain('&lt;script&gt;alert(1)&lt;/script&gt;')
    expect(mail.html).not.toContain('<b>admin</b>')
    // Nothing a user typed reaches the subject line.
    expect(mail.subject).toBe('You are invited to join a team on Groundwork')
  })

  it('tells admins that a webhook endpoint was disabled, escaping its URL', async () => {
    const job = (await enqueueJob(queue, testJob, {
      template: 'webhook-endpoint-disabled',
      to: 'admin@example.com',
      name: 'Ada',
      url: 'https://app.example.com/orgs/1/settings/webhooks/2',
      organizationName: 'Acme',
      endpointUrl: 'https://hooks.example.com/in?a=1&b=<x>',
      failures: 5,
    })) as Job
    await job.waitUntilFinished(events, 10_000)
    const mail = await sink.waitFor((m) => m.to.includes('admin@example.com'))
    expect(mail.subject).toBe('A webhook endpoint was disabled')
    expect(mail.text).toContain(
      'Deliveries to https://hooks.example.com/in?a=1&b=<x> failed 5 times',
    )
    expect(mail.html).toContain('https://hooks.example.com/in?a=1&amp;b=&lt;x&gt;')
    expect(mail.html).toContain('href="https://app.example.com/orgs/1/settings/webhooks/2"')
  })

  it('retries when the SMTP server fails temporarily, and delivers once', async () => {
    sink.failNext(2)
    const job = (await enqueueJob(queue, testJob, {
      template: 'password-reset',
      to: 'retry@example.com',
      name: 'Retry',
      sealedUrl: sealed('https://app.example.com/reset?token=r'),
    })) as Job
    await job.waitUntilFinished(events, 15_000)
    await sink.waitFor((m) => m.to.includes('retry@example.com'))
    expect((await queue.getJob(job.id as string))?.attemptsMade).toBe(3)
    expect(sink.messages.filter((m) => m.to.includes('retry@example.com'))).toHaveLength(1)
  })

  it('fails an invalid payload at once, without retries and without sending', async () => {
    const before = sink.messages.length
    // Past the producer's check, as an older deploy or a hand-made job might be.
    const job = await queue.add(
      EMAIL_JOB,
      {
        v: emailJob.version,
        payload: {
          template: 'verify-email',
          to: 'not-an-email',
          name: '',
          sealedUrl: 'javascript:alert(1)',
        },
        context: {},
      },
      { attempts: 6 },
    )
    await expect(job.waitUntilFinished(events, 10_000)).rejects.toThrow(
      /invalid job data: to: .*; name: .*; sealedUrl: /,
    )
    const failed = (await queue.getJob(job.id as string)) as Job
    expect(failed.attemptsMade).toBe(1)
    expect(sink.messages.length).toBe(before)
  })

  it('does not send twice when a job runs again after its email went out', async () => {
    const job = (await enqueueJob(queue, testJob, {
      template: 'verify-email',
      to: 'once@example.com',
      name: 'Once',
      sealedUrl: sealed('https://app.example.com/verify-email?token=once'),
    })) as Job
    await job.waitUntilFinished(events, 10_000)
    await sink.waitFor((m) => m.to.includes('once@example.com'))
    // As a replay from dead letters, or a pick-up after a stall, would run it again.
    const again = (await queue.getJob(job.id as string)) as Job
    await again.retry('completed')
    await expect
      .poll(async () => (await queue.getJob(job.id as string))?.returnvalue?.alreadySent, {
        timeout: 10_000,
      })
      .toBe(true)
    expect(sink.messages.filter((m) => m.to.includes('once@example.com'))).toHaveLength(1)
  })

  it('keeps the token out of the queue: the job holds the link sealed', async () => {
    const job = (await enqueueJob(queue, testJob, {
      template: 'password-reset',
      to: 'sealed@example.com',
      name: 'Sealed',
      sealedUrl: sealed('https://app.example.com/reset-password?token=TOPSECRETTOKEN'),
    })) as Job
    await job.waitUntilFinished(events, 10_000)
    const mail = await sink.waitFor((m) => m.to.includes('sealed@example.com'))
    expect(mail.text).toContain('token=TOPSECRETTOKEN')
    const stored = await redis.hgetall(`bull:${EMAIL_QUEUE}:${job.id}`)
    expect(JSON.stringify(stored)).not.toContain('TOPSECRETTOKEN')
  })

  it('fails at once, without sending, a link sealed with another key', async () => {
    const before = sink.messages.length
    const job = (await enqueueJob(queue, testJob, {
      template: 'verify-email',
      to: 'other-key@example.com',
      name: 'Other',
      sealedUrl: sealEmailLink(
        new URL('https://app.example.com/verify-email?token=t'),
        randomBytes(32),
      ),
    })) as Job
    await expect(job.waitUntilFinished(events, 10_000)).rejects.toThrow(
      'the email link cannot be opened with this secrets key',
    )
    expect(((await queue.getJob(job.id as string)) as Job).attemptsMade).toBe(1)
    expect(sink.messages.length).toBe(before)
  })

  it('sends what a user is waiting for before bulk mail queued earlier', async () => {
    // A queue of its own with no worker yet, so the backlog is there before anything runs.
    const backlogQueue = new Queue('email-priority-test', {
      connection: { url: services().redis.url },
    })
    const definition = { ...emailJob, queue: 'email-priority-test' }
    try {
      for (let i = 0; i < 15; i++)
        await enqueueJob(backlogQueue, definition, {
          template: 'invitation',
          to: `bulk-${i}@example.com`,
          name: 'Bulk',
          sealedUrl: sealed(`https://app.example.com/invitations/accept?token=bulk${i}`),
          organizationName: 'Noisy tenant',
          inviterName: 'Spammy',
        })
      await enqueueJob(backlogQueue, definition, {
        template: 'password-reset',
        to: 'waiting@example.com',
        name: 'Waiting',
        sealedUrl: sealed('https://app.example.com/reset-password?token=waiting'),
      })
      const order: string[] = []
      const drained = new Promise<void>((done) => {
        const consumer = new BullWorker(
          'email-priority-test',
          async (job) => {
            order.push((job.data as { payload: { to: string } }).payload.to)
            if (order.length === 16) setImmediate(() => void consumer.close().then(done))
          },
          { connection: { url: services().redis.url }, concurrency: 1 },
        )
      })
      await drained
      expect(order[0]).toBe('waiting@example.com')
    } finally {
      await backlogQueue.obliterate({ force: true })
      await backlogQueue.close()
    }
  })

  it('still sends an email queued by the previous version (its link in the clear)', async () => {
    // As the outbox or the queue may hold it when a deploy brings the sealed links.
    const job = await queue.add(
      EMAIL_JOB,
      {
        v: 1,
        payload: {
          template: 'password-reset',
          to: 'before-deploy@example.com',
          name: 'Early',
          url: 'https://app.example.com/reset-password?token=queued-before',
        },
        context: {},
      },
      { attempts: 1 },
    )
    await job.waitUntilFinished(events, 10_000)
    const mail = await sink.waitFor((m) => m.to.includes('before-deploy@example.com'))
    expect(mail.text).toContain('token=queued-before')
  })
})
