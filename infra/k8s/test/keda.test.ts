import { openQueues, QUEUES, type QueueRegistry } from '@repo/jobs'
import { createTestRedis, type TestRedis } from '@repo/testing'
import { Redis } from 'ioredis'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type K8sObject, type Loose, renderRelease } from './support/render.ts'
import { find } from './support/workloads.ts'

// KEDA sizes the worker from Redis keys named in the ScaledObject. A wrong key reads as
// an empty queue forever, and the worker never scales: so the keys are checked against
// what BullMQ itself writes, on a real Redis, counted the way KEDA counts them.

/**
 * The script KEDA's Redis scaler runs for a trigger's listName (pkg/scalers/redis_scaler.go,
 * KEDA 2.x): the key's length whatever its type, 0 when it does not exist.
 */
const KEDA_LENGTH_SCRIPT = `
  local listName = KEYS[1]
  local listType = redis.call('type', listName).ok
  local cmd = { zset = 'zcard', set = 'scard', list = 'llen', hash = 'hlen', none = 'llen' }
  return redis.call(cmd[listType], listName)
`

let redis: TestRedis
let client: Redis
let queues: QueueRegistry
let triggers: Loose[]
let scaledObject: K8sObject
beforeAll(async () => {
  redis = await createTestRedis()
  client = new Redis(redis.url, { maxRetriesPerRequest: 1 })
  queues = openQueues(client)
  scaledObject = find(await renderRelease('production'), 'ScaledObject', 'worker') as K8sObject
  triggers = scaledObject.spec.triggers
})
afterAll(async () => {
  await queues?.close()
  client?.disconnect()
  await redis?.release()
})

const kedaLength = async (key: string) => Number(await client.eval(KEDA_LENGTH_SCRIPT, 1, key))

describe('the worker ScaledObject', () => {
  it('watches the wait list and the prioritized set of every queue the worker consumes', () => {
    const expected = Object.keys(QUEUES).flatMap((name) => {
      const queue = queues.get(name)
      return [queue.keys.wait, queue.keys.prioritized]
    })
    expect(expected).toContain('bull:email:prioritized')
    expect(triggers.map((t) => t.metadata.listName).sort()).toEqual([...expected].sort())
    for (const trigger of triggers) {
      expect(trigger.type).toBe('redis')
      expect(trigger.authenticationRef).toEqual({ name: 'redis' })
      // The apps' REDIS_URL names no database: BullMQ's keys are in database 0.
      expect(trigger.metadata.databaseIndex).toBe('0')
    }
  })

  it('sizes the worker on the sum of every trigger', () => {
    const { formula, target, metricType } = scaledObject.spec.advanced.scalingModifiers
    const terms = formula.split('+').map((term: string) => term.trim())
    expect([...terms].sort()).toEqual(triggers.map((t) => t.name).sort())
    expect(Number(target)).toBeGreaterThan(0)
    expect(metricType).toBe('AverageValue')
  })

  it('counts exactly the jobs BullMQ would run now, as KEDA reads them', async () => {
    for (const name of Object.keys(QUEUES)) {
      const queue = queues.get(name)
      await queue.add('plain', {}, { attempts: 1 })
      await queue.add('plain', {}, { attempts: 1 })
      // An urgent email, say: BullMQ keeps prioritized jobs in a sorted set.
      await queue.add('urgent', {}, { priority: 1 })
      // Not runnable yet: it must not scale the worker up.
      await queue.add('later', {}, { delay: 3_600_000 })
    }
    for (const name of Object.keys(QUEUES)) {
      const queue = queues.get(name)
      const watched = triggers.filter((t) => t.metadata.listName.startsWith(`bull:${name}:`))
      const counted = (
        await Promise.all(watched.map((t) => kedaLength(t.metadata.listName)))
      ).reduce((sum, n) => sum + n, 0)
      expect(counted, name).toBe(3)
      expect(counted, name).toBe(await queue.getJobCountByTypes('waiting', 'prioritized'))
    }
  })
})
