import { execFileSync } from 'node:child_process'
import { mkdirSync, rmSync, writeFileSync } from 'node:fs'
import { Redis } from 'ioredis'
import { PortInUseError } from './free-port.ts'
import {
  ensureWatched,
  isAlive,
  sleep,
  spawnDaemon,
  startReaper,
  tailFile,
  terminate,
} from './process-utils.ts'
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
      if (!isAlive(pid)) {
        const log = tailFile(logFile)
        // Redis's own words when its port is taken (it then aborts).
        if (
          /Could not create server TCP listening socket .*: bind: Address already in use/.test(log)
        )
          throw new PortInUseError(`redis-server could not bind its port. Log:\n${log}`)
        throw new Error(`redis-server exited during start-up. Log:\n${log}`)
      }
      if (await answersAs(url, pid)) break
      if (Date.now() > deadline)
        throw new Error(`redis-server did not answer in time. Log:\n${tailFile(logFile)}`)
      await sleep(50)
    }
    await ensureWatched(reaper, pid)
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

/**
 * True when the Redis answering on `url` is process `pid`: until ours has bound the port,
 * another process may hold it (and one that never answers must not hang us).
 */
async function answersAs(url: string, pid: number): Promise<boolean> {
  const client = new Redis(url, {
    lazyConnect: true,
    connectTimeout: 1_000,
    commandTimeout: 1_000,
    // INFO below is the check; ioredis's own would wait for a foreign server to say "ready".
    enableReadyCheck: false,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
  })
  client.on('error', () => {})
  try {
    await client.connect()
    return new RegExp(`^process_id:${pid}\\r?$`, 'm').test(await client.info('server'))
  } catch {
    return false
  } finally {
    client.disconnect()
  }
}
