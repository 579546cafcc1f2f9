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
  const candidate = process.env.GROUNDWORK_REDIS_SERVER || 'redis-server'
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
  const logFile = `${options.dataDir}.log`
  const pidFile = `${options.dataDir}.pid`
  const ownFiles = options.persistent ? [pidFile] : [options.dataDir, logFile, pidFile]
  // Before anything is created: if this process dies from here on, nothing is left behind.
  const reaper =
    options.reapOnExit === false
      ? undefined
      : startReaper({ pidFile, signal: 'SIGTERM', paths: ownFiles })
  const cleanUp = () => {
    for (const path of ownFiles) rmSync(path, { recursive: true, force: true })
    reaper?.dismiss()
  }

  const url = `redis://127.0.0.1:${options.port}`
  let pid: number | undefined
  try {
    mkdirSync(options.dataDir, { recursive: true })
    writeFileSync(logFile, '')
    pid = spawnDaemon({
      command: binary,
      args: [
        ...['--bind', '127.0.0.1', '--port', String(options.port), '--dir', options.dataDir],
        ...['--databases', String(options.databases ?? 16), '--daemonize', 'no'],
        '--protected-mode',
        'yes',
        // BullMQ requires that Redis never evicts its keys.
        '--maxmemory-policy',
        'noeviction',
        ...(options.persistent
          ? ['--appendonly', 'yes', '--save', '300 10']
          : ['--appendonly', 'no', '--save', '']),
      ],
      logFile,
    })
    // Redis writes no pid file when it is not daemonized: write it for the reaper.
    writeFileSync(pidFile, String(pid))
    const deadline = Date.now() + (options.startTimeoutMs ?? 15_000)
    for (;;) {
      if (!isAlive(pid))
        throw new Error(`redis-server exited during start-up. Log:\n${tailFile(logFile)}`)
      if (await canPing(url)) break
      if (Date.now() > deadline)
        throw new Error(`redis-server did not answer PING in time. Log:\n${tailFile(logFile)}`)
      await sleep(50)
    }
  } catch (error) {
    if (pid) await terminate(pid, 'SIGTERM', 5_000)
    cleanUp()
    throw error
  }

  const serverPid = pid
  return {
    kind: 'local',
    url,
    host: '127.0.0.1',
    port: options.port,
    pid: serverPid,
    description: `local ${binary}`,
    async stop() {
      // SIGTERM makes Redis persist (when configured) and exit cleanly.
      await terminate(serverPid, 'SIGTERM', 10_000)
      cleanUp()
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
