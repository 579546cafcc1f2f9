import { Redis } from 'ioredis'
import { inject } from 'vitest'
import { REDIS_COUNTER_KEY, type TestServices } from './context.ts'

export interface TestRedis {
  /** Logical database of this test file's own. */
  db: number
  /** URL selecting that database, e.g. redis://127.0.0.1:6380/7 */
  url: string
  /** Empties the database (also done by release). */
  flush(): Promise<void>
  release(): Promise<void>
}

/**
 * Takes the next logical database from a counter in db 0 (atomic across parallel test
 * processes) and empties it, in case the counter has wrapped around.
 */
export async function allocateRedisDatabase(
  redisUrl: string,
  databases: number,
): Promise<TestRedis> {
  const counter = new Redis(redisUrl, { maxRetriesPerRequest: 1 })
  let db: number
  try {
    const n = await counter.incr(REDIS_COUNTER_KEY)
    db = 1 + ((n - 1) % (databases - 1))
  } finally {
    counter.disconnect()
  }
  const url = `${redisUrl.replace(/\/\d*$/, '')}/${db}`
  const flush = async () => {
    const client = new Redis(url, { maxRetriesPerRequest: 1 })
    try {
      await client.flushdb()
    } finally {
      client.disconnect()
    }
  }
  await flush()
  return { db, url, flush, release: flush }
}

/**
 * A Redis logical database of this test file's own, so parallel files never see each
 * other's keys (queues, rate limits, caches). `services` as for createTestDatabase.
 */
export async function createTestRedis(
  services: TestServices = inject('groundworkServices'),
): Promise<TestRedis> {
  const { redisUrl, redisDatabases } = services
  return allocateRedisDatabase(redisUrl, redisDatabases)
}
