import type { PostgresServer, RedisServer } from './types.ts'

export const POSTGRES_IMAGE = 'postgres:18-alpine'
export const REDIS_IMAGE = 'redis:7-alpine'

/**
 * True when Testcontainers finds a working container runtime (Docker, Podman, ...).
 * Without one it fails within milliseconds, so probing costs nothing.
 */
export async function containerRuntimeAvailable(): Promise<boolean> {
  try {
    const { getContainerRuntimeClient } = await import('testcontainers')
    await getContainerRuntimeClient()
    return true
  } catch {
    return false
  }
}

/** Throwaway Postgres in a container; Testcontainers' Ryuk removes it if we die. */
export async function startPostgresContainer(): Promise<PostgresServer> {
  const { PostgreSqlContainer } = await import('@testcontainers/postgresql')
  const container = await new PostgreSqlContainer(POSTGRES_IMAGE)
    .withUsername('postgres')
    .withPassword('postgres')
    .withDatabase('postgres')
    .withTmpFs({ '/var/lib/postgresql': 'rw' })
    .withCommand([
      'postgres',
      '-c',
      'fsync=off',
      '-c',
      'synchronous_commit=off',
      '-c',
      'full_page_writes=off',
      '-c',
      'max_connections=200',
    ])
    .start()
  return {
    kind: 'container',
    url: container.getConnectionUri(),
    host: container.getHost(),
    port: container.getPort(),
    description: `container ${POSTGRES_IMAGE}`,
    stop: async () => {
      await container.stop()
    },
  }
}

export async function startRedisContainer(databases: number): Promise<RedisServer> {
  const { RedisContainer } = await import('@testcontainers/redis')
  const container = await new RedisContainer(REDIS_IMAGE)
    .withCommand([
      'redis-server',
      '--databases',
      String(databases),
      '--save',
      '',
      '--appendonly',
      'no',
      '--maxmemory-policy',
      'noeviction',
    ])
    .start()
  return {
    kind: 'container',
    url: container.getConnectionUrl(),
    host: container.getHost(),
    port: container.getPort(),
    description: `container ${REDIS_IMAGE}`,
    stop: async () => {
      await container.stop()
    },
  }
}
