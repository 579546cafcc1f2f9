import { applyMigrations } from '@repo/db/migrate'
import type { TestProject } from 'vitest/node'
import { REDIS_DATABASES, TEMPLATE_DATABASE, withDatabase } from './context.ts'
import { withAdmin } from './database.ts'
import { chooseRuntime, startEphemeralPostgres, startEphemeralRedis } from './servers/index.ts'
import type { PostgresServer, RedisServer } from './servers/types.ts'

/**
 * Vitest global setup: one Postgres and one Redis for the whole run, and a migrated
 * template database that each test file clones (see createTestDatabase). Servers are
 * stopped on teardown; if the run is killed instead, their reapers clean up.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const runtime = await chooseRuntime()
  const started: Array<PostgresServer | RedisServer> = []
  const stopAll = async () => {
    await Promise.allSettled(started.map((server) => server.stop()))
  }
  try {
    const track = <T extends PostgresServer | RedisServer>(server: T): T => {
      started.push(server)
      return server
    }
    const [postgres, redis] = await Promise.all([
      startEphemeralPostgres(runtime).then(track),
      startEphemeralRedis({ runtime, databases: REDIS_DATABASES }).then(track),
    ])
    await createTemplate(postgres.url)
    project.provide('groundworkServices', {
      postgresUrl: postgres.url,
      templateDatabase: TEMPLATE_DATABASE,
      redisUrl: redis.url,
      redisDatabases: REDIS_DATABASES,
      runtime,
    })
    return stopAll
  } catch (error) {
    await stopAll()
    throw error
  }
}

/** Creates the template database and migrates it; clones of it start migrated. */
export async function createTemplate(adminUrl: string): Promise<void> {
  await withAdmin(adminUrl, (admin) => admin.query(`CREATE DATABASE ${TEMPLATE_DATABASE}`))
  // applyMigrations closes its connections, which CREATE DATABASE ... TEMPLATE requires.
  await applyMigrations({ databaseUrl: withDatabase(adminUrl, TEMPLATE_DATABASE), log: () => {} })
}
