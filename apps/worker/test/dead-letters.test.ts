import { execFile } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import {
  defineJob,
  enqueueJob,
  getDeadLetter,
  listDeadLetters,
  openDeadLetters,
  purgeDeadLetters,
  replayAllDeadLetters,
  replayDeadLetter,
} from '@repo/jobs'
import { useIsolatedServices } from '@repo/testing'
import { type Job, Queue, QueueEvents, type Worker } from 'bullmq'
import { Redis } from 'ioredis'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { z } from 'zod'
import { createWorker } from '../src/create-worker.ts'
import { definedHandler } from '../src/define-handler.ts'
import { capturingLogger } from './helpers.ts'

// Jobs that fail for good are filed as dead letters with their payload, error and every
// attempt's stack; operators list, inspect, replay (with a fresh attempt budget) and purge.
const services = useIsolatedServices()
const QUEUE = 'dlq-test'
const { logger, lines } = capturingLogger()
const charge = defineJob({
  name: 'test.charge',
  version: 1,
  queue: QUEUE,
  schema: z.object({ invoice: z.string().min(1) }).strict(),
  attempts: 3,
  backoff: { type: 'exponential', delay: 10, jitter: 0.5 },
})
let connection: Redis
let queue: Queue
let events: QueueEvents
let worker: Worker
let failing = true
/** Failures still to come once `failing` is off: a replay must survive them. */
let failuresLeft = 0
const deadLetters = () => openDeadLetters(connection)

beforeAll(async () => {
  const { url } = services().redis
  connection = new Redis(url, { maxRetriesPerRequest: null })
  queue = new Queue(QUEUE, { connection })
  events = new QueueEvents(QUEUE, { connection: { url } })
  await events.waitUntilReady()
  worker = createWorker({
    queue: QUEUE,
    connection,
    concurrency: 2,
    logger,
    deadLetters: deadLetters(),
    handlers: {
      [charge.name]: definedHandler(charge, async ({ invoice }) => {
        if (failing) throw new Error(`payment provider down for ${invoice}`)
        if (failuresLeft > 0) {
          failuresLeft--
          throw new Error(`payment provider flaky for ${invoice}`)
        }
        return { charged: invoice }
      }),
    },
  })
})
afterAll(async () => {
  await worker?.close()
  await events?.close()
  await queue?.close()
  connection?.disconnect()
})

const queueFor = () => queue

describe('dead letters', () => {
  it('file a job that used up its attempts, with payload, error and every attempt', async () => {
    failing = true
    const job = (await enqueueJob(queue, charge, { invoice: 'inv-1' })) as Job
    await expect(job.waitUntilFinished(events, 10_000)).rejects.toThrow(/provider down/)
    const dlq = deadLetters()
    const entry = await getDeadLetter(dlq, `${QUEUE}-${job.id}`)
    expect(entry).toMatchObject({
      queue: QUEUE,
      jobId: job.id,
      name: 'test.charge',
      data: { v: 1, payload: { invoice: 'inv-1' } },
      error: 'payment provider down for inv-1',
      attemptsMade: 3,
      options: { attempts: 3 },
    })
    expect(entry?.attempts.map((a) => a.attempt)).toEqual([1, 2, 3])
    expect(entry?.stack).toContain('payment provider down')
    expect(lines).toContainEqual(
      expect.objectContaining({ msg: 'job moved to dead letters', deadLetters: 1, level: 'error' }),
    )
    await dlq.close()
  })

  it('file an invalid payload after its one attempt', async () => {
    const job = await queue.add(charge.name, { v: 1, payload: {}, context: {} }, { attempts: 3 })
    await expect(job.waitUntilFinished(events, 10_000)).rejects.toThrow(/invalid job data/)
    const dlq = deadLetters()
    expect(await getDeadLetter(dlq, `${QUEUE}-${job.id}`)).toMatchObject({ attemptsMade: 1 })
    await purgeDeadLetters(dlq)
    await dlq.close()
  })

  it('replay with a fresh attempt budget, and purge', async () => {
    const dlq = deadLetters()
    await purgeDeadLetters(dlq)
    failing = true
    const jobs: Job[] = []
    for (const invoice of ['inv-a', 'inv-b', 'inv-c', 'inv-d'])
      jobs.push((await enqueueJob(queue, charge, { invoice })) as Job)
    for (const job of jobs) await expect(job.waitUntilFinished(events, 10_000)).rejects.toThrow()
    expect((await listDeadLetters(dlq)).total).toBe(4)

    // One, whose original is still in `failed`: retried in place under the same id. Its
    // three attempts were used up; it now survives two more failures, so the budget is new.
    failing = false
    failuresLeft = 2
    const [a, b, c, d] = jobs as [Job, Job, Job, Job]
    expect(await replayDeadLetter(dlq, `${QUEUE}-${a.id}`, queueFor)).toBe(true)
    await expect
      .poll(async () => (await queue.getJob(a.id as string))?.returnvalue?.charged, {
        timeout: 10_000,
      })
      .toBe('inv-a')
    expect((await queue.getJob(a.id as string))?.attemptsMade).toBe(3)
    expect(await getDeadLetter(dlq, `${QUEUE}-${a.id}`)).toBeNull()

    // One whose original has gone with the queue's retention: enqueued anew under its id.
    await (await queue.getJob(b.id as string))?.remove()
    expect(await replayDeadLetter(dlq, `${QUEUE}-${b.id}`, queueFor)).toBe(true)
    await expect
      .poll(async () => (await queue.getCompleted()).map((job) => job.returnvalue?.charged), {
        timeout: 10_000,
      })
      .toContain('inv-b')

    // Purge one, replay the rest.
    expect(await purgeDeadLetters(dlq, `${QUEUE}-${c.id}`)).toBe(1)
    expect(await replayAllDeadLetters(dlq, queueFor)).toBe(1)
    await expect
      .poll(async () => (await queue.getJob(d.id as string))?.returnvalue?.charged, {
        timeout: 10_000,
      })
      .toBe('inv-d')
    // Of this test's jobs (others of the file complete on the same queue): not the purged one.
    const charged = (await queue.getCompleted()).map((job) => job.returnvalue?.charged)
    expect(charged.filter((invoice) => /^inv-[a-d]$/.test(invoice)).sort()).toEqual([
      'inv-a',
      'inv-b',
      'inv-d',
    ])
    expect((await listDeadLetters(dlq)).total).toBe(0)
    expect(await replayDeadLetter(dlq, 'no-such-entry', queueFor)).toBe(false)
    await dlq.close()
  })
})

describe('replaying everything', () => {
  it('replays the entries there are, and returns, even when they fail again at once', async () => {
    const dlq = deadLetters()
    await purgeDeadLetters(dlq)
    failing = true
    for (const invoice of ['again-1', 'again-2']) {
      const job = (await enqueueJob(queue, charge, { invoice })) as Job
      await expect(job.waitUntilFinished(events, 10_000)).rejects.toThrow()
    }
    expect(await replayAllDeadLetters(dlq, queueFor)).toBe(2)
    // They fail again and are filed again: the next replay-all's business, not this one's.
    await expect.poll(async () => (await listDeadLetters(dlq)).total, { timeout: 10_000 }).toBe(2)
    await purgeDeadLetters(dlq)
    await dlq.close()
  })

  it('shows single-use links redacted, and replays them intact', async () => {
    const dlq = deadLetters()
    await purgeDeadLetters(dlq)
    const job = await queue.add(
      'test.mail',
      { v: 1, payload: { url: 'https://app.example.com/reset?token=s3cr3t&x=1' }, context: {} },
      { attempts: 1 },
    )
    await expect(job.waitUntilFinished(events, 10_000)).rejects.toThrow()
    const entry = await getDeadLetter(dlq, `${QUEUE}-${job.id}`)
    expect(JSON.stringify(entry)).not.toContain('s3cr3t')
    expect(JSON.stringify(entry?.data)).toContain('token=[redacted]&x=1')
    expect(JSON.stringify((await dlq.getJob(`${QUEUE}-${job.id}`))?.data)).toContain('s3cr3t')
    await purgeDeadLetters(dlq)
    await dlq.close()
  })
})

describe('pnpm jobs dlq', () => {
  const cli = fileURLToPath(new URL('../src/cli.ts', import.meta.url))
  const run = (args: string[], redisUrl = services().redis.url) =>
    new Promise<{ code: number; out: string; err: string }>((resolve) => {
      execFile(
        process.execPath,
        [cli, ...args],
        { env: { ...process.env, REDIS_URL: redisUrl }, timeout: 20_000 },
        (error, out, err) =>
          resolve({ code: error ? ((error as { code?: number }).code ?? 1) : 0, out, err }),
      )
    })

  it('lists, shows, replays and purges from a terminal', async () => {
    const dlq = deadLetters()
    await purgeDeadLetters(dlq)
    failing = true
    const jobs: Job[] = []
    for (const invoice of ['cli-1', 'cli-2', 'cli-3'])
      jobs.push((await enqueueJob(queue, charge, { invoice })) as Job)
    for (const job of jobs) await expect(job.waitUntilFinished(events, 10_000)).rejects.toThrow()
    const ids = jobs.map((job) => `${QUEUE}-${job.id}`)

    const list = await run(['dlq', 'list'])
    expect(list.code).toBe(0)
    expect(list.out).toContain('3 dead letter(s)')
    for (const id of ids) expect(list.out).toContain(id)
    const shown = await run(['dlq', 'show', ids[0] as string])
    expect(JSON.parse(shown.out)).toMatchObject({ error: 'payment provider down for cli-1' })

    failing = false
    expect((await run(['dlq', 'replay', ids[0] as string])).out).toContain('replayed')
    expect((await run(['dlq', 'purge', ids[1] as string])).out).toContain('purged 1')
    expect((await run(['dlq', 'replay', '--all'])).out).toContain('replayed 1')
    expect((await listDeadLetters(dlq)).total).toBe(0)
    await expect
      .poll(async () => (await queue.getJob(jobs[2]?.id as string))?.returnvalue?.charged, {
        timeout: 10_000,
      })
      .toBe('cli-3')
    await dlq.close()

    expect((await run(['dlq', 'show', 'no-such'])).code).toBe(1)
    const usage = await run(['dlq'])
    expect(usage.code).toBe(2)
    expect(usage.err).toContain('usage: pnpm jobs dlq list')
    const down = await run(['dlq', 'list'], 'redis://127.0.0.1:1')
    expect(down.code).toBe(1)
    expect(down.err).toMatch(/^jobs: /)
    // Nine CLI processes, each a cold start, and jobs run to their end: generous for a
    // loaded machine.
  }, 90_000)
})
