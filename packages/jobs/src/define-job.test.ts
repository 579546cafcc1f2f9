import { describe, expect, it } from 'vitest'
import { z } from 'zod'
import {
  defineJob,
  enqueueJob,
  InvalidJobPayloadError,
  jobEnvelope,
  jobOptions,
  readJobEnvelope,
} from './define-job.ts'

const greet = defineJob({
  name: 'test.greet',
  version: 2,
  queue: 'default',
  schema: z.object({ name: z.string().min(1) }).strict(),
  attempts: 3,
})

describe('job definitions', () => {
  it('fill in defaults: exponential backoff with jitter, a timeout, bounded retention', () => {
    expect(greet).toMatchObject({
      attempts: 3,
      backoff: { type: 'exponential', delay: 1_000, jitter: 0.5 },
      timeoutMs: 30_000,
      keep: { completed: { age: 86_400, count: 1_000 }, failed: { age: 604_800 } },
    })
    expect(jobOptions(greet, { jobId: 'greet-1' })).toEqual({
      attempts: 3,
      backoff: { type: 'exponential', delay: 1_000, jitter: 0.5 },
      removeOnComplete: { age: 86_400, count: 1_000 },
      removeOnFail: { age: 604_800 },
      jobId: 'greet-1',
    })
    expect(() => jobOptions(greet, { jobId: 'a:b' })).toThrow(/contains ':'/)
  })

  it('refuse to enqueue an invalid payload or context, naming what is wrong', async () => {
    const added: unknown[] = []
    const queue = { name: 'default', add: async (...args: unknown[]) => added.push(args) }
    // @ts-expect-error: the type refuses it too
    await expect(enqueueJob(queue, greet, { name: 42 })).rejects.toThrow(InvalidJobPayloadError)
    await expect(
      enqueueJob(queue, greet, { name: 'Ada' }, { context: { organizationId: 'not-a-uuid' } }),
    ).rejects.toThrow(/organizationId/)
    await expect(enqueueJob({ ...queue, name: 'email' }, greet, { name: 'Ada' })).rejects.toThrow(
      /belongs to queue default/,
    )
    expect(added).toEqual([])
    await enqueueJob(queue, greet, { name: 'Ada' }, { context: { requestId: 'r-1' } })
    expect(added).toEqual([
      [
        'test.greet',
        { v: 2, payload: { name: 'Ada' }, context: { requestId: 'r-1' } },
        expect.any(Object),
      ],
    ])
  })

  it('read back only what they wrote: the version and the payload are checked again', () => {
    const good = jobEnvelope(greet, { name: 'Ada' })
    expect(readJobEnvelope(greet, good)).toEqual({ ok: true, envelope: good })
    expect(readJobEnvelope(greet, { ...good, v: 1 })).toEqual({
      ok: false,
      reason: 'payload version 1, expected 2',
    })
    expect(readJobEnvelope(greet, { ...good, payload: { name: '' } })).toMatchObject({ ok: false })
    expect(readJobEnvelope(greet, { name: 'Ada' })).toMatchObject({ ok: false })
    expect(readJobEnvelope(greet, null)).toMatchObject({ ok: false })
  })

  it('run a job whose context carries a field a newer release added, without it', () => {
    const written = jobEnvelope(greet, { name: 'Ada' }, { requestId: 'req-1' })
    const fromNewer = { ...written, context: { ...written.context, addedLater: 'x' } }
    expect(readJobEnvelope(greet, fromNewer)).toEqual({ ok: true, envelope: written })
    // Writing stays strict: our own code cannot send a field no reader knows.
    expect(() => jobEnvelope(greet, { name: 'Ada' }, fromNewer.context as never)).toThrow(
      InvalidJobPayloadError,
    )
  })
})
