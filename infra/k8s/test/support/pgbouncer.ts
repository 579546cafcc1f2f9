import { type ChildProcess, spawn } from 'node:child_process'
import { accessSync, constants } from 'node:fs'
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { waitUntil } from '@repo/testing'
import { freePort, startReaper, terminate } from '@repo/testing/servers'
import pg from 'pg'
import type { K8sObject } from './render.ts'

/** Debian's pgbouncer (the package installs it outside a non-root PATH). */
export function findPgbouncer(): string {
  for (const candidate of [
    ...(process.env.PATH ?? '').split(':').map((dir) => join(dir, 'pgbouncer')),
    '/usr/sbin/pgbouncer',
  ]) {
    try {
      accessSync(candidate, constants.X_OK)
      return candidate
    } catch {}
  }
  throw new Error('pgbouncer is not installed (Debian: apt-get install -y pgbouncer)')
}

export interface Login {
  user: string
  password: string
}

export interface RunningPgbouncer {
  port: number
  /** A URL through PgBouncer for `login`, to the database the apps name. */
  url(login: Login): string
  stop(): Promise<void>
}

/**
 * Starts the real pgbouncer on a free loopback port with the configuration the manifests
 * ship (the pgbouncer-config ConfigMap, the user list template of the
 * groundwork-pgbouncer ExternalSecret). Only what a pod gets from elsewhere changes: the
 * paths, the listen address, where "postgres" is, the logins, and the pool sizes.
 */
export async function startPgbouncer(
  objects: K8sObject[],
  server: { host: string; port: number; database: string },
  logins: { app: Login; worker: Login },
  pools: { defaultPoolSize: number },
  /** Replaces `server_tls_sslmode = require` (the test Postgres has no certificate). */
  serverTls?: 'disable',
): Promise<RunningPgbouncer> {
  const binary = findPgbouncer()
  const config = objects.find(
    (o) => o.kind === 'ConfigMap' && o.metadata.name.startsWith('pgbouncer-config'),
  )
  const userlist: string | undefined = objects.find(
    (o) => o.kind === 'ExternalSecret' && o.metadata.name === 'groundwork-pgbouncer',
  )?.spec.target.template.data['userlist.txt']
  if (!config || !userlist) throw new Error('the render has no PgBouncer configuration')

  const dir = await mkdtemp(join(tmpdir(), 'groundwork-pgbouncer-'))
  // pgbouncer refuses to run as root: it runs as nobody, who must read the files.
  await chmod(dir, 0o755)
  const reaper = startReaper({ signal: 'SIGTERM', paths: [dir], pidFile: join(dir, 'pid') })
  const port = await freePort()
  const replace = (text: string, from: RegExp | string, to: string) => {
    const changed = text.replace(from, to)
    if (changed === text) throw new Error(`the PgBouncer config no longer has ${from}`)
    return changed
  }
  let ini: string = config.data['pgbouncer.ini']
  ini = replace(ini, /\/etc\/pgbouncer\//g, `${dir}/`)
  ini = replace(ini, '/etc/pgbouncer-auth/userlist.txt', join(dir, 'userlist.txt'))
  ini = replace(ini, 'listen_addr = 0.0.0.0', 'listen_addr = 127.0.0.1')
  ini = replace(ini, /^listen_port = \d+$/m, `listen_port = ${port}`)
  if (serverTls)
    ini = replace(ini, /^server_tls_sslmode = require$/m, `server_tls_sslmode = ${serverTls}`)
  const databases = replace(
    config.data['databases.ini'],
    'host=postgres port=5432 dbname=groundwork',
    `host=${server.host} port=${server.port} dbname=${server.database}`,
  )
  // One server connection per login and no reserve: every client of a login shares it.
  let poolsIni: string = config.data['pools.ini']
  poolsIni = replace(
    poolsIni,
    /^default_pool_size = \d+$/m,
    `default_pool_size = ${pools.defaultPoolSize}`,
  )
  poolsIni = replace(poolsIni, /^reserve_pool_size = \d+$/m, 'reserve_pool_size = 0')
  const users = replace(
    replace(
      userlist,
      '"groundwork" "{{ .APP_DB_PASSWORD }}"',
      `"${logins.app.user}" "${logins.app.password}"`,
    ),
    '"groundwork_worker_login" "{{ .WORKER_DB_PASSWORD }}"',
    `"${logins.worker.user}" "${logins.worker.password}"`,
  )
  for (const [name, text] of [
    ['pgbouncer.ini', ini],
    ['databases.ini', databases],
    ['pools.ini', poolsIni],
    ['userlist.txt', users],
  ] as const)
    await writeFile(join(dir, name), text, { mode: 0o644 })

  let log = ''
  const asRoot = process.getuid?.() === 0
  const child: ChildProcess = spawn(binary, [join(dir, 'pgbouncer.ini')], {
    stdio: ['ignore', 'pipe', 'pipe'],
    ...(asRoot ? { uid: 65534, gid: 65534 } : {}),
  })
  child.stdout?.on('data', (chunk) => (log += chunk))
  child.stderr?.on('data', (chunk) => (log += chunk))
  const pid = child.pid
  if (pid === undefined) throw new Error('could not start pgbouncer')
  await writeFile(join(dir, 'pid'), String(pid))
  await reaper.watching()

  const url = (login: Login) =>
    `postgresql://${encodeURIComponent(login.user)}:${encodeURIComponent(login.password)}@127.0.0.1:${port}/groundwork`
  const stop = async () => {
    await terminate(pid, 'SIGTERM', 5_000)
    await rm(dir, { recursive: true, force: true })
    reaper.dismiss()
  }
  try {
    await waitUntil(
      async () => {
        const client = new pg.Client({ connectionString: url(logins.app) })
        try {
          await client.connect()
          await client.query('SELECT 1')
          return true
        } finally {
          await client.end().catch(() => {})
        }
      },
      {
        what: 'pgbouncer to accept connections',
        timeoutMs: 15_000,
        gaveUp: () =>
          child.exitCode !== null ? `pgbouncer exited (${child.exitCode})` : undefined,
        detail: () => log.trim().split('\n').slice(-20).join('\n'),
      },
    )
  } catch (error) {
    await stop()
    throw error
  }
  return { port, url, stop }
}
