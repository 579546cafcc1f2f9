import { execFile } from 'node:child_process'
import { join, resolve } from 'node:path'
import { promisify } from 'node:util'
import { startLocalPostgres, startLocalRedis } from '@repo/testing/servers'

const run = promisify(execFile)

export interface DevServices {
  description: string
  stop(): Promise<void>
}

export interface DevServicesConfig {
  mode: 'docker' | 'local'
  databaseUrl: string
  redisUrl: string
  dataDir: string
  repoRoot: string
  log: (message: string) => void
}

export const portOf = (url: string, fallback: number) => Number(new URL(url).port || fallback)

/** A Docker engine answers (not just the client being installed). */
export async function dockerEngineAnswers(): Promise<boolean> {
  try {
    await run('docker', ['info', '--format', '{{.ServerVersion}}'], { timeout: 5_000 })
    return true
  } catch {
    return false
  }
}

/**
 * Starts Postgres and Redis for development: Docker Compose, or local binaries with data
 * under dataDir. preflight() chose the mode and checked the binaries and ports.
 */
export async function startDevServices(config: DevServicesConfig): Promise<DevServices> {
  return config.mode === 'docker' ? startWithCompose(config) : startLocally(config)
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
  try {
    await run('docker', ['compose', 'up', '--detach', '--wait', 'postgres', 'redis'], {
      cwd: config.repoRoot,
      env,
    })
  } catch (error) {
    // One service may be up when the other failed (a port taken, say): stop what started.
    await run('docker', ['compose', 'stop', 'postgres', 'redis'], {
      cwd: config.repoRoot,
      env,
    }).catch(() => {})
    const stderr = String((error as { stderr?: string }).stderr ?? '').trim()
    throw new Error(
      `Docker Compose could not start Postgres and Redis${stderr ? `: ${stderr.split('\n').at(-1)}` : ''}`,
    )
  }
  return {
    description: 'Docker Compose (postgres:18, redis:7)',
    stop: async () => {
      await run('docker', ['compose', 'stop', 'postgres', 'redis'], { cwd: config.repoRoot, env })
    },
  }
}

async function startLocally(config: DevServicesConfig): Promise<DevServices> {
  const db = new URL(config.databaseUrl)
  const pgPort = portOf(config.databaseUrl, 5432)
  const redisPort = portOf(config.redisUrl, 6379)
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
