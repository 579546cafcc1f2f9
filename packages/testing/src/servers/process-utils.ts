import { spawn } from 'node:child_process'
import { closeSync, openSync, readFileSync } from 'node:fs'
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
    { detached: true, stdio: 'ignore' },
  )
  child.unref()
  return {
    dismiss: () => {
      try {
        if (child.pid) process.kill(child.pid, 'SIGTERM')
      } catch {}
    },
  }
}
