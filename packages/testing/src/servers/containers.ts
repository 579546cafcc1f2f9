import type { PostgresServer, RedisServer } from './types.ts'

/**
 * The images, as docker-compose.yml names them. GROUNDWORK_POSTGRES_IMAGE and
 * GROUNDWORK_REDIS_IMAGE point at others: the local stand-ins that `pnpm containers:test`
 * builds where no registry answers (scripts/containers/base-images.ts).
 */
export const DEFAULT_POSTGRES_IMAGE = 'postgres:18-alpine'
export const DEFAULT_REDIS_IMAGE = 'redis:7-alpine'
export const POSTGRES_IMAGE = process.env.GROUNDWORK_POSTGRES_IMAGE || DEFAULT_POSTGRES_IMAGE
export const REDIS_IMAGE = process.env.GROUNDWORK_REDIS_IMAGE || DEFAULT_REDIS_IMAGE

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
  const { Wait } = await import('testcontainers')
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
    // Ready when it answers over TCP, asked from inside the container: unlike the image's
    // health check (the module's default wait), this needs no health-check scheduler, which
    // Podman lacks on a machine without systemd.
    .withWaitStrategy(
      Wait.forSuccessfulCommand(
        'pg_isready -h 127.0.0.1 -U postgres -d postgres',
      ).withStartupTimeout(120_000),
    )
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
