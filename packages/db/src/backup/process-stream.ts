import { type ChildProcess, spawn } from 'node:child_process'
import { createHash } from 'node:crypto'
import { Transform } from 'node:stream'
import { BackupError, type BackupErrorKind } from './errors.ts'

/** A client tool's run: its exit, and the end of what it said on stderr (for errors). */
export interface ToolRun {
  child: ChildProcess
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>
  stderr(): string
}

export function runTool(
  path: string,
  args: string[],
  env: NodeJS.ProcessEnv,
  stdin: 'ignore' | 'pipe',
): ToolRun {
  const child = spawn(path, args, { env, stdio: [stdin, 'pipe', 'pipe'] })
  let stderr = ''
  child.stderr?.setEncoding('utf8')
  child.stderr?.on('data', (chunk: string) => {
    // The end is what explains a failure; a huge stderr must not fill memory.
    stderr = (stderr + chunk).slice(-8_000)
  })
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once('error', (error) => {
      stderr += error.message
      resolve({ code: -1, signal: null })
    })
    child.once('close', (code, signal) => resolve({ code, signal }))
  })
  return { child, exited, stderr: () => stderr.trim() }
}

/** The failure of a client tool as a BackupError: an unreachable server is an outage. */
export function toolFailure(
  tool: string,
  run: ToolRun,
  exit: { code: number | null; signal: NodeJS.Signals | null },
) {
  const said = run.stderr()
  const kind: BackupErrorKind =
    /could not connect|connection to server .* failed|Connection refused|could not translate host name/i.test(
      said,
    )
      ? 'unavailable'
      : 'failed'
  const how = exit.signal ? `was stopped by ${exit.signal}` : `exited with ${exit.code}`
  return new BackupError(kind, `${tool} ${how}${said ? `: ${said}` : ''}`)
}

/**
 * Passes a tool's output through and ends only once the tool has exited: with an error
 * when it failed, so whatever consumes the stream (an upload) is aborted, never completed
 * with a truncated dump.
 */
export function untilSuccessfulExit(tool: string, run: ToolRun): Transform {
  return new Transform({
    transform(chunk, _encoding, done) {
      done(null, chunk)
    },
    flush(done) {
      run.exited.then((exit) => done(exit.code === 0 ? null : toolFailure(tool, run, exit)))
    },
  })
}

/** Counts and hashes (sha256) what passes through. */
export function measuring(): Transform & { result(): { sizeBytes: number; sha256: string } } {
  const hash = createHash('sha256')
  let sizeBytes = 0
  const stream = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      hash.update(chunk)
      sizeBytes += chunk.length
      done(null, chunk)
    },
  })
  return Object.assign(stream, { result: () => ({ sizeBytes, sha256: hash.digest('hex') }) })
}
