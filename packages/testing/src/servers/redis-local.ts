import { execFileSync } from 'node:child_process'
import { mkdirSync, rmSync, writeFileSync } from 'node:fs'
import { Redis } from 'ioredis'
import { isAlive, sleep, spawnDaemon, startReaper, tailFile, terminate } from './process-utils.ts'
import type { RedisServer } from './types.ts'

export interface LocalRedisOptions {
  dataDir: string
  port: number
  /** Keep data across restarts (dev: append-only file) or keep nothing (tests). */
  persistent: boolean
  /** Logical databases; tests give each test file its own. */
  databases?: number
  reapOnExit?: boolean
  startTimeoutMs?: number
}

export function findRedisServer(): string | undefined {
  const candidate = process.env.GROUNDWORK_REDIS_SERVER ?? 'redis-server'
  try {
    execFileSync(candidate, ['--version'], { stdio: 'ignore' })
    return candidate
  } catch {
    return undefined
  }
}

/** Starts a local `redis-server` bound to 127.0.0.1. */
export async function startLocalRedis(options: LocalRedisOptions): Promise<RedisServer> {
  const binary = findRedisServer()
  if (!binary) {
    throw new Error(
      'redis-server was not found. Install Redis 7+ (Debian/Ubuntu: `apt-get install redis-server`, ' +
        'macOS: `brew install redis`) or start Docker so Compose/Testcontainers can run it.',
    )
  }
  mkdirSync(options.dataDir, { recursive: true })
  const logFile = `${options.dataDir}.log`
  writeFileSync(logFile, '')
  const args = [
    '--bind',
    '127.0.0.1',
    '--port',
    String(options.port),
    '--dir',
    options.dataDir,
    '--databases',
    String(options.databases ?? 16),
    '--daemonize',
    'no',
    '--protected-mode',
    'yes',
    // BullMQ requires that Redis never evicts its keys.
    '--maxmemory-policy',
    'noeviction',
    ...(options.persistent
      ? ['--appendonly', 'yes', '--save', '300 10']
      : ['--appendonly', 'no', '--save', '']),
  ]
  const pid = spawnDaemon({ command: binary, args, logFile })
  const reaper =
    options.reapOnExit === false
      ? undefined
      : startReaper({
          pid,
          signal: 'SIGTERM',
          dirs: options.persistent ? [] : [options.dataDir, logFile],
        })

  const url = `redis://127.0.0.1:${options.port}`
  const deadline = Date.now() + (options.startTimeoutMs ?? 15_000)
  for (;;) {
    if (!isAlive(pid)) {
      if (reaper) process.kill(reaper, 'SIGTERM')
      throw new Error(`redis-server exited during start-up. Log:\n${tailFile(logFile)}`)
    }
    if (await canPing(url)) break
    if (Date.now() > deadline) {
      await terminate(pid, 'SIGTERM', 5_000)
      throw new Error(`redis-server did not answer PING in time. Log:\n${tailFile(logFile)}`)
    }
    await sleep(50)
  }

  return {
    kind: 'local',
    url,
    host: '127.0.0.1',
    port: options.port,
    pid,
    description: `local ${binary}`,
    async stop() {
      if (reaper) {
        try {
          process.kill(reaper, 'SIGTERM')
        } catch {}
      }
      // SIGTERM makes Redis persist (when configured) and exit cleanly.
      await terminate(pid, 'SIGTERM', 10_000)
      if (!options.persistent) {
        rmSync(options.dataDir, { recursive: true, force: true })
        rmSync(logFile, { force: true })
      }
    },
  }
}

async function canPing(url: string): Promise<boolean> {
  const client = new Redis(url, {
    lazyConnect: true,
    connectTimeout: 1_000,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
  })
  client.on('error', () => {})
  try {
    await client.connect()
    return (await client.ping()) === 'PONG'
  } catch {
    return false
  } finally {
    client.disconnect()
  }
}
