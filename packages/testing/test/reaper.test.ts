import { type ChildProcess, spawn } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { ensureWatched, type Reaper, startReaper } from '../src/servers/process-utils.ts'

// A launcher returns only once the server's reaper knows its pid (ensureWatched), so a
// crash right after start-up, even one followed by deleting the pid file, is covered.
const scratch = mkdtempSync(join(tmpdir(), 'groundwork-reaper-test-'))
const reapers: Reaper[] = []
const servers: ChildProcess[] = []
afterAll(() => {
  for (const reaper of reapers) reaper.dismiss()
  for (const server of servers) server.kill('SIGKILL')
  rmSync(scratch, { recursive: true, force: true })
})

/** A stand-in server: a process that runs until it is killed. */
function startServer(): ChildProcess & { pid: number } {
  const server = spawn(process.execPath, ['-e', 'setInterval(() => {}, 60_000)'], {
    stdio: 'ignore',
  })
  servers.push(server)
  return server as ChildProcess & { pid: number }
}

function reaperFor(pidFile: string): Reaper {
  const reaper = startReaper({ pidFile, signal: 'SIGTERM', paths: [] })
  reapers.push(reaper)
  return reaper
}

describe('a server reaper', () => {
  it('reports the pid its pid file names once the file appears', async () => {
    const pidFile = join(scratch, 'appears.pid')
    const reaper = reaperFor(pidFile)
    const server = startServer()
    writeFileSync(pidFile, String(server.pid))
    await expect(reaper.watching()).resolves.toBe(server.pid)
    await ensureWatched(reaper, server.pid)
  })

  it('makes the launcher fail when the server exits before the reaper knew it', async () => {
    const pidFile = join(scratch, 'exits.pid')
    const reaper = reaperFor(pidFile)
    const server = startServer()
    const exited = new Promise((done) => server.once('exit', done))
    server.kill('SIGKILL')
    await exited
    // The file names a process that is gone: the reaper never reports it.
    writeFileSync(pidFile, String(server.pid))
    await expect(ensureWatched(reaper, server.pid)).rejects.toThrow('exited before its watchdog')
  })
})
