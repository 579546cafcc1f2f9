import { spawn } from 'node:child_process'
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { answers } from '@repo/testing'
import { PortInUseError, startOnFreePort } from '@repo/testing/servers'
import { type ChildServer, captureOutput, superviseChild } from './child.ts'

/**
 * The standalone server `next build` emits, run as it is deployed. `pnpm test` builds it
 * first (turbo dependency); run `pnpm build` before running a file that needs it alone.
 */
export const STANDALONE_SERVER = join(
  import.meta.dirname,
  '..',
  '..',
  '.next',
  'standalone',
  'apps',
  'web',
  'server.js',
)

export interface WebServer extends ChildServer {
  /** http://127.0.0.1:<port>, the web app's origin. */
  url: string
  port: number
}

/**
 * The web app's production server with `env` on top of what every start needs. On `port`
 * when given (PortInUseError if another process holds it); otherwise on a port that was
 * free a moment ago, and again on another should someone take it first: Next's server
 * cannot bind port 0 and report what it got (PORT=0 means 3000).
 */
export async function startWebServer(
  options: { port?: number; env?: Record<string, string> } = {},
): Promise<WebServer> {
  if (!existsSync(STANDALONE_SERVER))
    throw new Error(`No production build at ${STANDALONE_SERVER}: run \`pnpm build\` first.`)
  const { port, env = {} } = options
  return port === undefined ? startOnFreePort((free) => startOn(free, env)) : startOn(port, env)
}

async function startOn(port: number, env: Record<string, string>): Promise<WebServer> {
  const url = `http://127.0.0.1:${port}`
  const child = spawn(process.execPath, [STANDALONE_SERVER], {
    env: {
      PATH: process.env.PATH,
      NODE_ENV: 'production',
      PORT: String(port),
      HOSTNAME: '127.0.0.1',
      NEXT_TELEMETRY_DISABLED: '1',
      // The web app's public URL: what it compares Origin headers with, and whether its
      // session cookie is Secure (http here, as on loopback in development).
      APP_URL: url,
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  const output = captureOutput(child)
  const server = await superviseChild(child, {
    name: 'the web server',
    output,
    // "Ready" comes once it listens: only then is it this server that answers on the port.
    ready: async () => output().includes('✓ Ready') && (await answers(`${url}/healthz`)),
    timeoutMs: 90_000,
    explain: (printed) =>
      printed.includes(`EADDRINUSE: address already in use 127.0.0.1:${port}`)
        ? new PortInUseError(printed)
        : undefined,
  })
  return { ...server, url, port }
}
