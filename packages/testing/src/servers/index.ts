export { containerRuntimeAvailable, POSTGRES_IMAGE, REDIS_IMAGE } from './containers.ts'
export {
  chooseRuntime,
  type Runtime,
  startEphemeralPostgres,
  startEphemeralRedis,
} from './ephemeral.ts'
export { freePort, isPortInUse, PortInUseError, startOnFreePort } from './free-port.ts'
export {
  findPgbouncer,
  pgbouncerInstalled,
  type StartedPgbouncer,
  startPgbouncer,
} from './pgbouncer.ts'
export { findPostgresBinaries } from './postgres-binaries.ts'
export { type LocalPostgresOptions, startLocalPostgres } from './postgres-local.ts'
export { ensureWatched, isAlive, startReaper, terminate } from './process-utils.ts'
export { findRedisServer, type LocalRedisOptions, startLocalRedis } from './redis-local.ts'
export type { PostgresServer, RedisServer } from './types.ts'
