import { type CoreDeps, redisAccessChanges } from '@repo/core'
import type { PrismaClient } from '@repo/db'
import { openQueues } from '@repo/jobs'
import type { Logger } from '@repo/observability'
import type { Worker } from 'bullmq'
import { Redis } from 'ioredis'
import { createOutboxRelay } from '../src/outbox-relay.ts'
import { testDatabaseClient } from './helpers.ts'

/** The key of secrets at rest in worker tests and benches. */
export const TEST_SECRETS_KEY = Buffer.alloc(32, 7)

/** What core functions need in a test or bench: these clients, loose quotas, loopback webhooks allowed. */
export function testCoreDeps(
  db: PrismaClient,
  redis: Redis,
  logger: Logger,
  overrides: Partial<CoreDeps> = {},
): CoreDeps {
  return {
    db,
    sessionPolicy: { idleTimeoutMs: 3_600_000, absoluteLifetimeMs: 86_400_000 },
    redis,
    appUrl: 'https://app.example.com',
    oauthProviders: {},
    secretsKey: TEST_SECRETS_KEY,
    webhooks: { allowPrivateTargets: true, secretGraceMs: 3_600_000 },
    quotas: { projectsPerOrganization: 10_000, tasksPerProject: 100_000 },
    logger,
    accessChanges: redisAccessChanges({ redis, logger }),
    ...overrides,
  }
}

/**
 * The worker's pipeline for one test file, on its own services: the API's and the
 * worker's database logins, Redis for workers and for producers, the outbox relay, and
 * `workers` the file adds. `stop()` closes all of it.
 */
export function startPipeline(
  services: { database: { appUrl: string; workerUrl: string }; redis: { url: string } },
  logger: Logger,
) {
  const appDb = testDatabaseClient(services.database.appUrl)
  const workerDb = testDatabaseClient(services.database.workerUrl)
  const redis = new Redis(services.redis.url, { maxRetriesPerRequest: null })
  const producerRedis = new Redis(services.redis.url, {
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
  })
  const producers = openQueues(producerRedis)
  const relay = createOutboxRelay({
    db: workerDb,
    logger,
    queueFor: producers.get,
    fallbackPollMs: 20,
  })
  relay.start()
  const workers: Worker[] = []
  return {
    appDb,
    workerDb,
    redis,
    producers,
    workers,
    connection: { url: services.redis.url },
    coreDeps: testCoreDeps(appDb, redis, logger),
    async stop() {
      await relay.stop()
      await Promise.all(workers.map((worker) => worker.close()))
      await producers.close()
      producerRedis.disconnect()
      redis.disconnect()
      await Promise.all([appDb.$disconnect(), workerDb.$disconnect()])
    },
  }
}
