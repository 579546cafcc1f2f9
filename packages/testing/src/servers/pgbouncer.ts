import { type ChildProcess, spawn } from 'node:child_process'
import { accessSync, constants } from 'node:fs'
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import pg from 'pg'
import { waitUntil } from '../wait.ts'
import { freePort } from './free-port.ts'
import { startReaper, terminate } from './process-utils.ts'

/** Debian's pgbouncer (the package installs it outside a non-root PATH). */
export function findPgbouncer(): string {
  for (const candidate of [
    ...(process.env.PATH ?? '').split(':').map((dir) => join(dir, 'pgbouncer')),
    '/usr/sbin/pgbouncer',
  ]) {
    try {
      accessSync(candidate, constants.X_OK)
      return candidate
    } catch {}
  }
  throw new Error('pgbouncer is not installed (Debian: apt-get install -y pgbouncer)')
}

/** Whether pgbouncer can run here: tests that need it skip, or fail in CI, without it. */
export function pgbouncerInstalled(): boolean {
  try {
    findPgbouncer()
    return true
  } catch {
    return false
  }
}

export interface StartedPgbouncer {
  port: number
  stop(): Promise<void>
}

/**
 * Starts the real pgbouncer on a free loopback port. `files` writes its configuration:
 * given the directory the files go to and the port to listen on, every file by name,
 * `pgbouncer.ini` among them. It is up once `readyUrl` (a login of its user list, through
 * it) answers a query. Stopped by stop(), or by a watchdog if this process dies first.
 */
export async function startPgbouncer(options: {
  files: (dir: string, port: number) => Record<string, string>
  readyUrl: (port: number) => string
}): Promise<StartedPgbouncer> {
  const binary = findPgbouncer()
  const dir = await mkdtemp(join(tmpdir(), 'groundwork-pgbouncer-'))
  // pgbouncer refuses to run as root: it runs as nobody, who must read the files.
  await chmod(dir, 0o755)
  const reaper = startReaper({ signal: 'SIGTERM', paths: [dir], pidFile: join(dir, 'pid') })
  const port = await freePort()
  const files = options.files(dir, port)
  if (!files['pgbouncer.ini']) throw new Error('a pgbouncer configuration needs pgbouncer.ini')
  for (const [name, text] of Object.entries(files))
    await writeFile(join(dir, name), text, { mode: 0o644 })

  let log = ''
  const asRoot = process.getuid?.() === 0
  const child: ChildProcess = spawn(binary, [join(dir, 'pgbouncer.ini')], {
    stdio: ['ignore', 'pipe', 'pipe'],
    ...(asRoot ? { uid: 65534, gid: 65534 } : {}),
  })
  child.stdout?.on('data', (chunk) => (log += chunk))
  child.stderr?.on('data', (chunk) => (log += chunk))
  const pid = child.pid
  if (pid === undefined) throw new Error('could not start pgbouncer')
  await writeFile(join(dir, 'pid'), String(pid))
  await reaper.watching()

  const stop = async () => {
    await terminate(pid, 'SIGTERM', 5_000)
    await rm(dir, { recursive: true, force: true })
    reaper.dismiss()
  }
  try {
    await waitUntil(
      async () => {
        const client = new pg.Client({ connectionString: options.readyUrl(port) })
        try {
          await client.connect()
          await client.query('SELECT 1')
          return true
        } finally {
          await client.end().catch(() => {})
        }
      },
      {
        what: 'pgbouncer to accept connections',
        timeoutMs: 15_000,
        gaveUp: () =>
          child.exitCode !== null ? `pgbouncer exited (${child.exitCode})` : undefined,
        detail: () => log.trim().split('\n').slice(-20).join('\n'),
      },
    )
  } catch (error) {
    await stop()
    throw error
  }
  return { port, stop }
}
