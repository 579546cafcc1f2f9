import { spawn } from 'node:child_process'
import { closeSync, openSync, readFileSync } from 'node:fs'
import type { Socket } from 'node:net'
import { fileURLToPath } from 'node:url'

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM'
  }
}

/** Resolves once `pid` has exited, or after `timeoutMs` with false. */
export async function waitForExit(pid: number, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs
  while (Date.now() < deadline) {
    if (!isAlive(pid)) return true
    await sleep(50)
  }
  return !isAlive(pid)
}

/** Signals `pid`, then SIGKILLs it if it has not exited within `graceMs`. */
export async function terminate(
  pid: number,
  signal: NodeJS.Signals,
  graceMs: number,
): Promise<void> {
  if (!isAlive(pid)) return
  try {
    process.kill(pid, signal)
  } catch {
    return
  }
  if (await waitForExit(pid, graceMs)) return
  try {
    process.kill(pid, 'SIGKILL')
  } catch {}
  await waitForExit(pid, 2_000)
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

/** The last lines of a log file, for error messages when a server fails to start. */
export function tailFile(path: string, lines = 20): string {
  try {
    return readFileSync(path, 'utf8').trimEnd().split('\n').slice(-lines).join('\n')
  } catch {
    return '(no log)'
  }
}

export interface DaemonOptions {
  command: string
  args: string[]
  logFile: string
  uid?: number | undefined
  gid?: number | undefined
  env?: NodeJS.ProcessEnv
}

/**
 * Starts a server in its own process group, so a Ctrl-C aimed at the terminal's foreground
 * group does not kill it mid-write; its owner stops it explicitly. Output goes to logFile.
 */
export function spawnDaemon(options: DaemonOptions): number {
  const fd = openSync(options.logFile, 'a')
  try {
    const child = spawn(options.command, options.args, {
      detached: true,
      stdio: ['ignore', fd, fd],
      env: options.env ?? process.env,
      ...(options.uid === undefined ? {} : { uid: options.uid, gid: options.gid }),
    })
    if (child.pid === undefined) throw new Error(`could not start ${options.command}`)
    child.unref()
    return child.pid
  } finally {
    closeSync(fd)
  }
}

const reaperScript = fileURLToPath(new URL('./reaper.mjs', import.meta.url))

export interface Reaper {
  /**
   * Resolves with the pid the watchdog will stop once it knows it (it reads the pid file
   * every 50 ms); rejects if the watchdog is gone first. Until then, a crash followed by
   * someone deleting the pid file would leave the server running.
   */
  watching(): Promise<number>
  /** Tells the watchdog its job is done (the owner stopped the server and cleaned up). */
  dismiss(): void
}

/**
 * Starts a detached watchdog that, once this process is gone however it ended (a crash,
 * SIGKILL, a Ctrl-C that skipped teardown), signals the server and deletes `paths`. Start
 * it before creating anything, so no window exists in which a death leaks files. The
 * server is `pid` (negative: a process group) or whatever pid `pidFile` holds by then.
 */
export function startReaper(target: {
  pid?: number
  pidFile?: string
  signal: NodeJS.Signals
  paths: string[]
}): Reaper {
  const child = spawn(
    process.execPath,
    [
      reaperScript,
      JSON.stringify({
        parentPid: process.pid,
        pid: target.pid,
        pidFile: target.pidFile,
        signal: target.signal,
        dirs: target.paths,
      }),
    ],
    { detached: true, stdio: ['ignore', 'pipe', 'ignore'] },
  )
  child.unref()
  const report = child.stdout
  // Neither the watchdog nor the pipe it reports on may keep this process alive.
  ;(report as Socket).unref()
  const watching = new Promise<number>((resolve, reject) => {
    let text = ''
    report.setEncoding('utf8')
    report.on('data', (chunk: string) => {
      text += chunk
      if (!text.includes('\n')) return
      resolve(Number(text.split('\n')[0]))
      report.destroy()
    })
    report.once('close', () =>
      reject(new Error('the server watchdog exited before it knew the pid')),
    )
  })
  // Callers that never ask must not see an unhandled rejection.
  watching.catch(() => {})
  return {
    watching: () => watching,
    dismiss: () => {
      report.destroy()
      try {
        if (child.pid) process.kill(child.pid, 'SIGTERM')
      } catch {}
    },
  }
}

/**
 * Returns once the watchdog knows the server's pid, so any crash from now on is covered;
 * throws if the server exits first (the watchdog only reports a live pid), or if the
 * watchdog, which looks every 50 ms, has not said within `timeoutMs`.
 */
export async function ensureWatched(
  reaper: Reaper | undefined,
  pid: number,
  timeoutMs = 10_000,
): Promise<void> {
  if (!reaper) return
  const deadline = Date.now() + timeoutMs
  let timer: NodeJS.Timeout | undefined
  const gaveUp = new Promise<never>((_, reject) => {
    const check = () => {
      if (!isAlive(pid))
        reject(new Error(`the server (pid ${pid}) exited before its watchdog knew its pid`))
      else if (Date.now() > deadline)
        reject(new Error(`the server watchdog did not report pid ${pid} within ${timeoutMs} ms`))
      else timer = setTimeout(check, 50)
    }
    check()
  })
  try {
    const watched = await Promise.race([reaper.watching(), gaveUp])
    if (watched !== pid)
      throw new Error(`the server watchdog watches pid ${watched}, not the server (${pid})`)
  } finally {
    clearTimeout(timer)
  }
}
