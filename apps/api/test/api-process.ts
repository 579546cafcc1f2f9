import { type ChildProcess, spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { answers, waitUntil } from '@repo/testing'

const apiDir = fileURLToPath(new URL('..', import.meta.url))

/** The API's real entry point running in a child process, and what it has printed. */
export interface ApiChild {
  child: ChildProcess
  exited: Promise<number | null>
  output: () => string
  /** Why waiting on it is pointless: it has exited. */
  gaveUp: () => string | undefined
}

/**
 * The real entry point (src/server.ts: env validation, listen, signals) in a child process
 * with only `env` (and PATH). `children` collects it, for the test file to kill after.
 */
export function spawnApi(env: Record<string, string>, children: ChildProcess[]): ApiChild {
  const child = spawn(process.execPath, ['src/server.ts'], {
    cwd: apiDir,
    env: { PATH: process.env.PATH, NODE_ENV: 'test', LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  children.push(child)
  let output = ''
  child.stdout?.on('data', (chunk) => (output += chunk))
  child.stderr?.on('data', (chunk) => (output += chunk))
  const exited = new Promise<number | null>((resolve) =>
    child.once('exit', (code) => resolve(code)),
  )
  const gaveUp = () => (child.exitCode === null ? undefined : 'the API exited')
  return { child, exited, output: () => output, gaveUp }
}

/**
 * Starts the real API on a port of its own choosing (API_PORT=0: nothing can take it
 * between choice and bind) and resolves once /readyz answers. Load shedding is off, as in
 * every test but its own (load-shedding.test.ts): a process that has just loaded every
 * module on a busy 2-core machine measures its event loop as saturated for a second.
 */
export async function startReadyApi(env: Record<string, string>, children: ChildProcess[]) {
  const api = spawnApi(
    {
      API_PORT: '0',
      PRESSURE_MAX_EVENT_LOOP_DELAY_MS: '0',
      PRESSURE_MAX_EVENT_LOOP_UTILIZATION: '0',
      ...env,
    },
    children,
  )
  const listening = () => api.output().match(/"msg":"Server listening at (http:[^"]+)"/)?.[1]
  await waitUntil(() => listening() !== undefined, {
    what: 'the API to listen',
    // A cold start loads every module from source: slow on a loaded 2-core machine.
    timeoutMs: 60_000,
    gaveUp: api.gaveUp,
    detail: api.output,
  })
  const base = listening() as string
  await waitUntil(() => answers(`${base}/readyz`), {
    what: 'the API to be ready',
    gaveUp: api.gaveUp,
  })
  return { api, base }
}
