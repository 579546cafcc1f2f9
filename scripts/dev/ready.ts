// The block `pnpm dev` prints once the stack answers: where everything is, a demo account
// that signs in at once, and how to stop.
import { DEMO_ACCOUNTS } from '@repo/db/demo-account'
import type { DevEnv } from './env.ts'

const POLL_MS = 500
const SLOW_HINT_MS = 120_000

async function status(url: string, timeoutMs: number): Promise<number | undefined> {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) })
    await res.body?.cancel()
    return res.status
  } catch {
    return undefined
  }
}

/**
 * Resolves once every app that answers HTTP is ready: the API's /readyz says 200 (so
 * Postgres and Redis answer it) and the web app serves its home page (the first request
 * also compiles it). Resolves false if `until` settles first (the stack is stopping).
 */
export async function waitUntilReady(
  env: DevEnv,
  until: Promise<unknown>,
  log: (message: string) => void,
): Promise<boolean> {
  let stopped = false
  void until.then(() => (stopped = true))
  const started = Date.now()
  let hinted = false
  const pending = new Map<string, () => Promise<boolean>>()
  if (env.GROUNDWORK_DEV_APPS.includes('api'))
    pending.set(
      'api',
      async () => (await status(`http://127.0.0.1:${env.API_PORT}/readyz`, 3_000)) === 200,
    )
  if (env.GROUNDWORK_DEV_APPS.includes('web'))
    pending.set('web', async () => {
      const code = await status(`http://127.0.0.1:${env.WEB_PORT}/`, 60_000)
      return code !== undefined && code < 500
    })
  while (!stopped && pending.size > 0) {
    for (const [app, ready] of pending) if (await ready()) pending.delete(app)
    if (pending.size === 0) break
    if (!hinted && Date.now() - started > SLOW_HINT_MS) {
      hinted = true
      log(`still waiting for ${[...pending.keys()].join(' and ')}; their logs above say why`)
    }
    await new Promise((resolve) => setTimeout(resolve, POLL_MS))
  }
  return !stopped
}

export function readyBanner(env: DevEnv, mailSink: string | undefined, seconds: number): string {
  const apps = env.GROUNDWORK_DEV_APPS
  const rows: [string, string][] = []
  if (apps.includes('web')) rows.push(['web', `http://127.0.0.1:${env.WEB_PORT}`])
  if (apps.includes('api')) {
    rows.push(['api', `http://127.0.0.1:${env.API_PORT}`])
    rows.push(['API reference', `http://127.0.0.1:${env.API_PORT}/docs`])
  }
  if (apps.includes('worker')) rows.push(['worker', 'running (logs above)'])
  rows.push([
    'mail',
    mailSink
      ? `${mailSink} (every message is printed here)`
      : `sent to ${env.SMTP_URL} (not the development sink)`,
  ])
  // One of each role, so what each may do can be tried at once.
  for (const [i, account] of DEMO_ACCOUNTS.entries())
    rows.push([
      i === 0 ? 'demo accounts' : '',
      `${account.email} / ${account.password} (${account.role})`,
    ])
  const width = Math.max(...rows.map(([label]) => label.length))
  // One block, set apart from the apps' logs, printed with a single write.
  return [
    '',
    `\x1b[32m[dev]\x1b[0m Groundwork is ready (${seconds.toFixed(1)} s)`,
    ...rows.map(([label, value]) => `        ${label.padEnd(width)}  ${value}`),
    '        Ctrl-C stops everything.',
    '',
  ].join('\n')
}
