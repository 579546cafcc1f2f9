import { spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { answers } from '@repo/testing'
import { type ChildServer, captureOutput, superviseChild } from './child.ts'

const apiDir = fileURLToPath(new URL('../../../api', import.meta.url))

export interface ApiProcess extends ChildServer {
  /** http://127.0.0.1:<port>, where it listens. */
  url: string
}

/**
 * The API as production starts it (`pnpm start`: node --import ./src/tracing.ts
 * src/server.ts), in a process of its own on a port it picks (API_PORT=0). The stack
 * keeps the API in the test process; a test of what the process itself does (tracing
 * starts before the app) needs the real thing.
 */
export async function startApiProcess(env: Record<string, string>): Promise<ApiProcess> {
  const child = spawn(process.execPath, ['--import', './src/tracing.ts', 'src/server.ts'], {
    cwd: apiDir,
    env: {
      PATH: process.env.PATH,
      NODE_ENV: 'test',
      LOG_LEVEL: 'info',
      API_PORT: '0',
      API_HOST: '127.0.0.1',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  const output = captureOutput(child)
  const listening = () => output().match(/"msg":"Server listening at (http:[^"]+)"/)?.[1]
  const server = await superviseChild(child, {
    name: 'the API',
    output,
    ready: async () => {
      const url = listening()
      return url !== undefined && (await answers(`${url}/readyz`))
    },
    timeoutMs: 90_000,
  })
  return { ...server, url: listening() as string }
}
