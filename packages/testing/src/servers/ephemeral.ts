import { randomBytes } from 'node:crypto'
import { statfsSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import {
  containerRuntimeAvailable,
  startPostgresContainer,
  startRedisContainer,
} from './containers.ts'
import { startOnFreePort } from './free-port.ts'
import { startLocalPostgres } from './postgres-local.ts'
import { startLocalRedis } from './redis-local.ts'
import type { PostgresServer, RedisServer } from './types.ts'

export type Runtime = 'container' | 'local'

/**
 * Which runtime throwaway servers use: GROUNDWORK_TEST_RUNTIME=container|local forces one;
 * otherwise containers when a runtime answers, local binaries when not.
 */
export async function chooseRuntime(): Promise<Runtime> {
  const forced = process.env.GROUNDWORK_TEST_RUNTIME
  if (forced === 'container' || forced === 'local') return forced
  if (forced && forced !== 'auto') {
    throw new Error(`GROUNDWORK_TEST_RUNTIME must be auto, container or local (got "${forced}")`)
  }
  return (await containerRuntimeAvailable()) ? 'container' : 'local'
}

/**
 * Where throwaway clusters live: GROUNDWORK_TEST_TMPDIR, else RAM-backed /dev/shm when it
 * has room (measured: cloning a test database takes ~6 ms there against ~85 ms on this
 * disk), else the OS temp dir. The data dir is the temp dir itself, so stopping the server
 * (or the reaper, if this process dies) leaves nothing behind.
 */
function tempRoot(): string {
  if (process.env.GROUNDWORK_TEST_TMPDIR) return process.env.GROUNDWORK_TEST_TMPDIR
  try {
    const { bavail, bsize } = statfsSync('/dev/shm')
    if (bavail * bsize > 2 * 1024 ** 3) return '/dev/shm'
  } catch {}
  return tmpdir()
}
/** A fresh path (not yet created): the server creates it after its reaper is watching. */
const tempPath = (prefix: string) => join(tempRoot(), `${prefix}${randomBytes(6).toString('hex')}`)

/** A throwaway Postgres server tuned for tests (no fsync); removed on stop or if we die. */
export async function startEphemeralPostgres(runtime?: Runtime): Promise<PostgresServer> {
  if ((runtime ?? (await chooseRuntime())) === 'container') return startPostgresContainer()
  return startOnFreePort((port) =>
    startLocalPostgres({
      dataDir: tempPath('groundwork-pg-'),
      port,
      persistent: false,
      ephemeral: true,
    }),
  )
}

/** A throwaway Redis server with `databases` logical databases (one per test file). */
export async function startEphemeralRedis(
  options: { runtime?: Runtime; databases?: number } = {},
): Promise<RedisServer> {
  const databases = options.databases ?? 16
  if ((options.runtime ?? (await chooseRuntime())) === 'container')
    return startRedisContainer(databases)
  return startOnFreePort((port) =>
    startLocalRedis({
      dataDir: tempPath('groundwork-redis-'),
      port,
      persistent: false,
      databases,
    }),
  )
}
