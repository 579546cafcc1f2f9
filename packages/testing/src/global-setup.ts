import { ensureAppLogin, WORKER_ROLE } from '@repo/db'
import { applyMigrations } from '@repo/db/migrate'
import pg from 'pg'
import type { TestProject } from 'vitest/node'
import {
  REDIS_DATABASES,
  TEMPLATE_DATABASE,
  TEST_APP_LOGIN,
  TEST_WORKER_LOGIN,
  type TestServices,
  withDatabase,
} from './context.ts'
import { withAdmin } from './database.ts'
import { chooseRuntime, startEphemeralPostgres, startEphemeralRedis } from './servers/index.ts'
import type { PostgresServer, RedisServer } from './servers/types.ts'

/**
 * Vitest global setup: one Postgres and one Redis for the whole run, and a migrated
 * template database that each test file clones (see createTestDatabase). Servers are
 * stopped on teardown; if the run is killed instead, their reapers clean up.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const { services, stop } = await startTestServices()
  project.provide('groundworkServices', services)
  return stop
}

/**
 * What the global setup provides, for a process outside Vitest too (a bench that starts
 * the browser-test harness): pass `services` to createTestDatabase and createTestRedis,
 * and call stop() at the end.
 */
export async function startTestServices(): Promise<{
  services: TestServices
  stop(): Promise<void>
}> {
  const runtime = await chooseRuntime()
  const started: Array<PostgresServer | RedisServer> = []
  const stop = async () => {
    await Promise.allSettled(started.map((server) => server.stop()))
  }
  try {
    const track = <T extends PostgresServer | RedisServer>(server: T): T => {
      started.push(server)
      return server
    }
    // allSettled: when one fails, the other may still be starting; wait so it is stopped too.
    const [postgresResult, redisResult] = await Promise.allSettled([
      startEphemeralPostgres(runtime).then(track),
      startEphemeralRedis({ runtime, databases: REDIS_DATABASES }).then(track),
    ])
    if (postgresResult.status === 'rejected') throw postgresResult.reason
    if (redisResult.status === 'rejected') throw redisResult.reason
    const postgres = postgresResult.value
    const redis = redisResult.value
    await createTemplate(postgres.url)
    const services: TestServices = {
      postgresUrl: postgres.url,
      templateDatabase: TEMPLATE_DATABASE,
      redisUrl: redis.url,
      redisDatabases: REDIS_DATABASES,
      runtime,
    }
    return { services, stop }
  } catch (error) {
    await stop()
    throw error
  }
}

/** Creates the template database and migrates it; clones of it start migrated. */
export async function createTemplate(adminUrl: string): Promise<void> {
  await withAdmin(adminUrl, (admin) =>
    admin.query(`CREATE DATABASE ${pg.escapeIdentifier(TEMPLATE_DATABASE)}`),
  )
  // applyMigrations closes its connections, which CREATE DATABASE ... TEMPLATE requires.
  await applyMigrations({ databaseUrl: withDatabase(adminUrl, TEMPLATE_DATABASE), log: () => {} })
  // Roles are per server: the app login every test database grants to (via groundwork_app).
  await ensureAppLogin(adminUrl, TEST_APP_LOGIN)
  await ensureAppLogin(adminUrl, TEST_WORKER_LOGIN, WORKER_ROLE)
}
