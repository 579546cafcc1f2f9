import type { K8sObject, Loose } from './render.ts'
import { envOf, find } from './workloads.ts'

/** The name the listener's URL gives it: PgBouncer's session-mode database. */
const LISTEN_URL = /@pgbouncer:6432\/(\w+)(\?|$)/

/**
 * PgBouncer's database entries, by name, each as its `key=value` settings: databases.ini,
 * and the [databases] section that pools.ini may end with (an environment's sizes).
 */
export function pgbouncerDatabases(objects: K8sObject[]): Map<string, Record<string, string>> {
  const config = objects.find(
    (o) => o.kind === 'ConfigMap' && o.metadata.name.startsWith('pgbouncer-config'),
  )?.data
  const pools: string = config?.['pools.ini'] ?? ''
  const sections = pools.split(/^\[databases\]$/m)
  const text = `${config?.['databases.ini'] ?? ''}\n${sections.slice(1).join('\n')}`
  const databases = new Map<string, Record<string, string>>()
  for (const line of text.split('\n')) {
    const entry = /^(\w+)\s*=\s*(.*)$/.exec(line.trim())
    if (!entry) continue
    const settings: Record<string, string> = {}
    for (const [, key, value] of (entry[2] as string).matchAll(/(\w+)=('(?:[^']|'')*'|\S+)/g))
      settings[key as string] = value as string
    databases.set(entry[1] as string, settings)
  }
  return databases
}

/** The worker pods there can be at once: the autoscaler's maximum plus a rollout's surge. */
function workerPodsAtMost(objects: K8sObject[]): number | undefined {
  const max = find(objects, 'ScaledObject', 'worker')?.spec?.maxReplicaCount
  if (typeof max !== 'number') return undefined
  const surge: unknown =
    find(objects, 'Deployment', 'worker')?.spec?.strategy?.rollingUpdate?.maxSurge ?? '25%'
  if (typeof surge === 'number') return max + surge
  return max + Math.ceil((max * Number.parseInt(String(surge), 10)) / 100)
}

/**
 * The outbox listener (ADR 038): the worker gets OUTBOX_LISTEN_DATABASE_URL from the
 * Secret, on its own login, pointing at a PgBouncer database in session mode (LISTEN
 * cannot work in transaction mode) that forces no login and holds a server connection
 * for every worker pod there can be. Every other database stays in transaction mode.
 */
export function checkOutboxListen(objects: K8sObject[]): string[] {
  const found: string[] = []
  const worker = find(objects, 'Deployment', 'worker')?.spec?.template?.spec?.containers?.[0]
  const ref = envOf(worker ?? {}).get('OUTBOX_LISTEN_DATABASE_URL')?.valueFrom?.secretKeyRef
  if (ref?.name !== 'groundwork' || ref?.key !== 'OUTBOX_LISTEN_DATABASE_URL')
    found.push('Deployment/worker: no OUTBOX_LISTEN_DATABASE_URL from the Secret groundwork')
  const urls: Loose = find(objects, 'ExternalSecret', 'groundwork')?.spec?.target?.template?.data
  const listenUrl = String(urls?.OUTBOX_LISTEN_DATABASE_URL ?? '')
  const login = (url: string) => /^postgresql:\/\/([^:@/]+)[:@]/.exec(url)?.[1]
  if (login(listenUrl) !== login(String(urls?.WORKER_DATABASE_URL ?? '')))
    found.push("Secret groundwork OUTBOX_LISTEN_DATABASE_URL: not the worker's login")
  const databases = pgbouncerDatabases(objects)
  const name = LISTEN_URL.exec(listenUrl)?.[1]
  const listen = name === undefined ? undefined : databases.get(name)
  if (listen?.pool_mode !== 'session')
    found.push(
      'Secret groundwork OUTBOX_LISTEN_DATABASE_URL: not a session-mode PgBouncer database (LISTEN needs a session)',
    )
  for (const [database, settings] of databases) {
    if ('user' in settings)
      found.push(
        `PgBouncer database ${database}: forces the server login ${settings.user} on every client`,
      )
    if (database !== name && (settings.pool_mode ?? 'transaction') !== 'transaction')
      found.push(`PgBouncer database ${database}: pool_mode ${settings.pool_mode}, not transaction`)
  }
  const pods = workerPodsAtMost(objects)
  if (listen && pods !== undefined)
    for (const key of ['pool_size', 'max_db_connections'])
      if (!(Number(listen[key]) >= pods))
        found.push(
          `PgBouncer database ${name}: ${key} ${listen[key]} holds fewer than the ${pods} worker pods there can be (maxReplicaCount plus surge)`,
        )
  return found
}
