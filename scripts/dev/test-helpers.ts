// What the tests of `pnpm dev` share: starting it as a terminal would, reading what it
// prints, interrupting it, and finding anything it left behind.
import { type ChildProcess, execFileSync, spawn } from 'node:child_process'
import { chmodSync, existsSync, mkdtempSync, readdirSync, readlinkSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { stripVTControlCharacters } from 'node:util'
import { DEMO_ACCOUNT } from '@repo/db/demo-account'
import { freePort } from '@repo/testing/servers'

export const repoRoot = resolve(import.meta.dirname, '../..')

/**
 * A temporary directory for a dev stack's data. Readable by others: as root, the local
 * Postgres runs as the postgres user, which must be able to enter it.
 */
export function stackTempDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix))
  chmodSync(dir, 0o755)
  return dir
}

/** Free ports for each of `names`, chosen when the test file starts. */
export async function freePorts<K extends string>(names: K[]): Promise<Record<K, number>> {
  const ports = {} as Record<K, number>
  for (const name of names) ports[name] = await freePort()
  return ports
}

export interface DevRun {
  child: ChildProcess
  exited: Promise<number | null>
  /** Everything it printed so far, stdout and stderr, without colours. */
  output: () => string
}

/** `pnpm dev` (the README's command, through pnpm) in a session of its own, as a terminal gives it. */
export function spawnDev(cwd: string, env: NodeJS.ProcessEnv): DevRun {
  const child = spawn('pnpm', ['dev'], {
    cwd,
    env,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let output = ''
  child.stdout?.on('data', (chunk) => (output += chunk))
  child.stderr?.on('data', (chunk) => (output += chunk))
  const exited = new Promise<number | null>((done) => child.once('exit', (code) => done(code)))
  return { child, exited, output: () => stripVTControlCharacters(output) }
}

/** Every process group of the session `pnpm dev` leads. */
export function sessionGroups(sid: number): number[] {
  return [
    ...new Set(
      execFileSync('ps', ['-eo', 'pgid=,sid='], { encoding: 'utf8' })
        .split('\n')
        .map((line) => line.trim().split(/\s+/).map(Number))
        .filter(([, session]) => session === sid)
        .map(([group]) => group as number),
    ),
  ]
}

/**
 * Ctrl-C as a terminal sends it: SIGINT to the processes of the session (pnpm runs its
 * script in a process group of its own, so its group alone is not enough). Resolves with
 * the exit code.
 */
export function interrupt(dev: DevRun): Promise<number | null> {
  for (const group of sessionGroups(dev.child.pid as number)) {
    try {
      process.kill(-group, 'SIGINT')
    } catch {}
  }
  return dev.exited
}

/** For a failed test's clean-up: SIGKILL whatever is left of the session. */
export function killSession(dev: DevRun | undefined) {
  if (!dev?.child.pid) return
  for (const group of sessionGroups(dev.child.pid)) {
    try {
      process.kill(-group, 'SIGKILL')
    } catch {}
  }
}

/**
 * Processes that belong to `dir`: their command line names it, or (Linux) they run in it.
 * The second catches what the first cannot see: an app started with a relative path
 * (`node src/main.ts`), or one that renamed itself (`next-server`).
 */
export function processesUnder(dir: string): string[] {
  const byArgs = execFileSync('ps', ['-eo', 'pid=,args='], { encoding: 'utf8' })
    .split('\n')
    .filter((line) => line.includes(dir) && !/^\s*\d+\s+ps /.test(line))
    .map((line) => line.trim())
  const byCwd: string[] = []
  if (existsSync('/proc/self/cwd')) {
    for (const pid of readdirSync('/proc').filter((name) => /^\d+$/.test(name))) {
      try {
        const cwd = readlinkSync(`/proc/${pid}/cwd`)
        if (cwd === dir || cwd.startsWith(`${dir}/`)) byCwd.push(`${pid} (cwd ${cwd})`)
      } catch {}
    }
  }
  return [...byArgs, ...byCwd]
}

/** The block pnpm dev prints once the stack answers (empty until then). */
export const readyBlock = (output: string) => output.split('Groundwork is ready')[1] ?? ''

/**
 * fetch, retried while the API sheds load (503 with Retry-After), as it is built to on a
 * busy machine and as a well-behaved client handles it; returns the last answer.
 */
export async function fetchPolitely(url: string, init: RequestInit = {}): Promise<Response> {
  const deadline = Date.now() + 30_000
  for (;;) {
    const res = await fetch(url, init)
    if (res.status !== 503 || Date.now() > deadline) return res
    const retryAfter = Number(res.headers.get('retry-after')) || 1
    await res.body?.cancel()
    await new Promise((done) => setTimeout(done, Math.min(retryAfter, 5) * 1_000))
  }
}

/** Signs in with a demo account that the seed creates and the ready block names. */
export function signInAsDemo(
  apiPort: number,
  account: { email: string; password: string } = DEMO_ACCOUNT,
): Promise<Response> {
  return fetchPolitely(`http://127.0.0.1:${apiPort}/v1/auth/sign-in`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ email: account.email, password: account.password }),
  })
}
