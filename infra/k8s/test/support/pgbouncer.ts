import { join } from 'node:path'
import { startPgbouncer as startConfigured } from '@repo/testing/servers'
import type { K8sObject } from './render.ts'

export interface Login {
  user: string
  password: string
}

export interface RunningPgbouncer {
  port: number
  /** A URL through PgBouncer for `login`, to a database of its configuration (the apps'). */
  url(login: Login, database?: string): string
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
  const config = objects.find(
    (o) => o.kind === 'ConfigMap' && o.metadata.name.startsWith('pgbouncer-config'),
  )
  const userlist: string | undefined = objects.find(
    (o) => o.kind === 'ExternalSecret' && o.metadata.name === 'groundwork-pgbouncer',
  )?.spec.target.template.data['userlist.txt']
  if (!config || !userlist) throw new Error('the render has no PgBouncer configuration')

  const replace = (text: string, from: RegExp | string, to: string) => {
    const changed = typeof from === 'string' ? text.replaceAll(from, to) : text.replace(from, to)
    if (changed === text) throw new Error(`the PgBouncer config no longer has ${from}`)
    return changed
  }
  const url = (port: number, login: Login, database = 'groundwork') =>
    `postgresql://${encodeURIComponent(login.user)}:${encodeURIComponent(login.password)}@127.0.0.1:${port}/${database}`
  const server_ = `host=${server.host} port=${server.port} dbname=${server.database}`
  const { port, stop } = await startConfigured({
    readyUrl: (port) => url(port, logins.app),
    files: (dir, port) => {
      let ini: string = config.data['pgbouncer.ini']
      ini = replace(ini, /\/etc\/pgbouncer\//g, `${dir}/`)
      ini = replace(ini, '/etc/pgbouncer-auth/userlist.txt', join(dir, 'userlist.txt'))
      ini = replace(ini, 'listen_addr = 0.0.0.0', 'listen_addr = 127.0.0.1')
      ini = replace(ini, /^listen_port = \d+$/m, `listen_port = ${port}`)
      if (serverTls)
        ini = replace(ini, /^server_tls_sslmode = require$/m, `server_tls_sslmode = ${serverTls}`)
      // Debian's pgbouncer (1.18) predates max_prepared_statements (1.21) and refuses to
      // start with it. Without it PgBouncer passes named statements through to whichever
      // server connection serves the transaction: the writes stay correct (a name is
      // made from its statement's text, and a missing one is parsed again, ADR 049), which
      // is the harder case to prove.
      ini = replace(ini, /^max_prepared_statements = \d+$/m, '')
      const databases = replace(
        config.data['databases.ini'],
        'host=postgres port=5432 dbname=groundwork',
        server_,
      )
      // One server connection per login and no reserve: every client of a login shares
      // it. The listener's session database (pools.ini's own [databases] section) keeps
      // its size: one server connection per listening worker is what it is for.
      let poolsIni: string = config.data['pools.ini']
      poolsIni = replace(
        poolsIni,
        /^default_pool_size = \d+$/m,
        `default_pool_size = ${pools.defaultPoolSize}`,
      )
      poolsIni = replace(poolsIni, /^reserve_pool_size = \d+$/m, 'reserve_pool_size = 0')
      poolsIni = replace(poolsIni, 'host=postgres port=5432 dbname=groundwork', server_)
      const users = replace(
        replace(
          userlist,
          '"groundwork" "{{ .APP_DB_PASSWORD }}"',
          `"${logins.app.user}" "${logins.app.password}"`,
        ),
        '"groundwork_worker_login" "{{ .WORKER_DB_PASSWORD }}"',
        `"${logins.worker.user}" "${logins.worker.password}"`,
      )
      return {
        'pgbouncer.ini': ini,
        'databases.ini': databases,
        'pools.ini': poolsIni,
        'userlist.txt': users,
      }
    },
  })
  return { port, url: (login, database) => url(port, login, database), stop }
}
