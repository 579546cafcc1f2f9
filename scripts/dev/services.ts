import { execFile } from 'node:child_process'
import { join, resolve } from 'node:path'
import { promisify } from 'node:util'
import {
  findPostgresBinaries,
  findRedisServer,
  isPortInUse,
  startLocalPostgres,
  startLocalRedis,
} from '@repo/testing/servers'

const run = promisify(execFile)

export interface DevServices {
  description: string
  stop(): Promise<void>
}

export interface DevServicesConfig {
  mode: 'auto' | 'docker' | 'local'
  databaseUrl: string
  redisUrl: string
  dataDir: string
  repoRoot: string
  log: (message: string) => void
}

/** A Docker engine answers (not just the client being installed). */
async function dockerEngineAnswers(): Promise<boolean> {
  try {
    await run('docker', ['info', '--format', '{{.ServerVersion}}'], { timeout: 5_000 })
    return true
  } catch {
    return false
  }
}

const portOf = (url: string, fallback: number) => Number(new URL(url).port || fallback)

/**
 * Starts Postgres and Redis for development: Docker Compose when an engine answers,
 * otherwise local binaries with data under dataDir, otherwise a message that says what
 * to install.
 */
export async function startDevServices(config: DevServicesConfig): Promise<DevServices> {
  const useDocker =
    config.mode === 'docker' || (config.mode === 'auto' && (await dockerEngineAnswers()))
  return useDocker ? startWithCompose(config) : startLocally(config)
}

async function startWithCompose(config: DevServicesConfig): Promise<DevServices> {
  const db = new URL(config.databaseUrl)
  // The containers take their credentials and ports from the same URLs the apps use.
  const env = {
    ...process.env,
    POSTGRES_USER: decodeURIComponent(db.username || 'postgres'),
    POSTGRES_PASSWORD: decodeURIComponent(db.password || 'postgres'),
    POSTGRES_DB: db.pathname.slice(1) || 'groundwork',
    POSTGRES_PORT: String(portOf(config.databaseUrl, 5432)),
    REDIS_PORT: String(portOf(config.redisUrl, 6379)),
  }
  config.log('starting Postgres and Redis with Docker Compose')
  await run('docker', ['compose', 'up', '--detach', '--wait', 'postgres', 'redis'], {
    cwd: config.repoRoot,
    env,
  })
  return {
    description: 'Docker Compose (postgres:18, redis:7)',
    stop: async () => {
      await run('docker', ['compose', 'stop', 'postgres', 'redis'], { cwd: config.repoRoot, env })
    },
  }
}

async function startLocally(config: DevServicesConfig): Promise<DevServices> {
  const missing: string[] = []
  if (!findPostgresBinaries()) {
    missing.push(
      'PostgreSQL 15+ (run `pnpm install`, which ships PostgreSQL 18, or install it so `pg_config` is on PATH)',
    )
  }
  if (!findRedisServer()) {
    missing.push(
      'Redis 7+ (`apt-get install redis-server` on Debian/Ubuntu, `brew install redis` on macOS)',
    )
  }
  if (missing.length > 0) {
    const why =
      config.mode === 'auto'
        ? 'No Docker engine answers and these are not installed'
        : 'These are not installed'
    throw new Error(
      `${why}:\n${missing.map((m) => `  - ${m}`).join('\n')}\n` +
        'Install them, or start Docker so the dev stack can use Docker Compose (GROUNDWORK_DEV_SERVICES=auto).',
    )
  }

  const db = new URL(config.databaseUrl)
  const pgPort = portOf(config.databaseUrl, 5432)
  const redisPort = portOf(config.redisUrl, 6379)
  for (const [name, port, variable] of [
    ['Postgres', pgPort, 'DATABASE_URL'],
    ['Redis', redisPort, 'REDIS_URL'],
  ] as const) {
    if (await isPortInUse(port)) {
      throw new Error(
        `Port ${port} for ${name} is already in use. Stop what listens there or choose another port in ${variable} (.env).`,
      )
    }
  }

  const dataDir = resolve(config.repoRoot, config.dataDir)
  config.log(
    `starting Postgres :${pgPort} and Redis :${redisPort} from local binaries (data in ${config.dataDir})`,
  )
  const postgres = await startLocalPostgres({
    dataDir: join(dataDir, 'postgres'),
    port: pgPort,
    user: decodeURIComponent(db.username || 'postgres'),
    password: decodeURIComponent(db.password || 'postgres'),
    persistent: true,
  })
  let redis: Awaited<ReturnType<typeof startLocalRedis>>
  try {
    redis = await startLocalRedis({
      dataDir: join(dataDir, 'redis'),
      port: redisPort,
      persistent: true,
    })
  } catch (error) {
    await postgres.stop()
    throw error
  }
  return {
    description: `local binaries (${postgres.description}; ${redis.description})`,
    stop: async () => {
      await Promise.all([postgres.stop(), redis.stop()])
    },
  }
}
