import type { ChildProcess } from 'node:child_process'
import { waitUntil } from '@repo/testing'
import { ensureWatched, startReaper, terminate } from '@repo/testing/servers'

/** A server the stack runs as a child process (the web app, the worker). */
export interface ChildServer {
  pid: number
  /** Everything it printed so far, for failure messages. */
  output(): string
  stop(): Promise<void>
}

/** The last lines of a process's output: enough to read a failure, not a whole log. */
export const tail = (text: string, lines = 30) =>
  text.trimEnd().split('\n').slice(-lines).join('\n')

/**
 * Waits until `child` says it is ready, with a watchdog that stops it should this test
 * process die without stop() (a killed run, a crashed fork): nothing outlives the run.
 * On failure the child is stopped and the error carries the end of its output.
 */
export async function superviseChild(
  child: ChildProcess,
  options: {
    name: string
    output: () => string
    ready: () => boolean | Promise<boolean>
    timeoutMs: number
    /** A readable reason when the output shows why it cannot start (a port taken). */
    explain?: (output: string) => Error | undefined
  },
): Promise<ChildServer> {
  const { pid } = child
  if (pid === undefined) throw new Error(`could not start ${options.name}`)
  const reaper = startReaper({ pid, signal: 'SIGTERM', paths: [] })
  // 'close', not 'exit': only then has all of its output arrived.
  const closed = new Promise<void>((resolve) => child.once('close', () => resolve()))
  let hasClosed = false
  void closed.then(() => {
    hasClosed = true
  })
  const stop = async () => {
    // SIGKILL after the grace: a hung shutdown must not hang the test file's afterAll.
    await terminate(pid, 'SIGTERM', 10_000)
    await closed
    reaper.dismiss()
  }
  try {
    await waitUntil(options.ready, {
      what: `${options.name} to start`,
      timeoutMs: options.timeoutMs,
      gaveUp: () => (hasClosed ? `${options.name} exited (code ${child.exitCode})` : undefined),
      detail: () => tail(options.output()),
    })
    await ensureWatched(reaper, pid)
  } catch (error) {
    await stop()
    throw options.explain?.(options.output()) ?? error
  }
  return { pid, output: options.output, stop }
}

/** Collects what a child prints on stdout and stderr. */
export function captureOutput(child: ChildProcess): () => string {
  let output = ''
  child.stdout?.on('data', (chunk) => (output += chunk))
  child.stderr?.on('data', (chunk) => (output += chunk))
  return () => output
}
