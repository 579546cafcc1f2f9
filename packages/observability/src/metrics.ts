import { subscribe } from 'node:diagnostics_channel'
import { collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client'

export { Counter, Gauge, Histogram, Registry } from 'prom-client'

/**
 * Prometheus metrics (prom-client) for the api and the worker; the names, types and labels
 * are the contract in infra/monitoring/metrics.json, which alert rules and dashboards read.
 * Each app instance has a registry of its own (tests build several per process); what
 * belongs to the process (default metrics: event-loop lag, memory, CPU, GC; Redis command
 * latency) lives in one process-wide registry, started by the first app that serves
 * metrics. A scrape merges both and stamps `service` on every series.
 */

/** What a pg Pool tells about itself (node-postgres), without depending on `pg` here. */
export interface PoolLike {
  readonly totalCount: number
  readonly idleCount: number
  readonly waitingCount: number
  readonly options: { max?: number | undefined }
}

export type DependencyState = 'up' | 'down'

export interface MetricsConfig {
  /** `service` label on every series: api, worker. */
  service: string
  version: string
  commit: string
}

export interface Metrics {
  /** This instance's registry: register the app's own metrics here (`registers: [registry]`). */
  registry: Registry
  /** db_pool_connections and db_pool_max_connections for this pool, read at scrape time. */
  instrumentPool(pool: PoolLike, name: string): void
  /**
   * readiness_status: asks `check` at scrape time (the same check the probes use), so the
   * value is the last readiness answer, never older than the scrape.
   */
  readinessFrom(check: () => Promise<Record<string, DependencyState>>): void
  /** Starts the process-wide metrics (default metrics, Redis latency) if not yet running. */
  collectProcessMetrics(): void
  /** The exposition text of this instance and the process. */
  scrape(): Promise<string>
  readonly contentType: string
}

// Buckets in seconds. Redis answers in well under a millisecond when healthy; a slow one
// shows in the upper buckets long before it times a request out.
const REDIS_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5]

/**
 * Commands that wait for data on purpose (BullMQ's workers and queue events block on
 * them for seconds): their time measures an idle queue, not Redis, so they are left out.
 * XREAD and XREADGROUP block only with a BLOCK argument.
 */
const BLOCKING = new Set([
  'blpop',
  'brpop',
  'brpoplpush',
  'blmove',
  'blmpop',
  'bzpopmin',
  'bzpopmax',
  'bzmpop',
  'wait',
  'waitaof',
])
const STREAM_READS = new Set(['xread', 'xreadgroup'])

function isBlocking(command: string, args: unknown): boolean {
  if (BLOCKING.has(command)) return true
  return (
    STREAM_READS.has(command) &&
    Array.isArray(args) &&
    args.some((arg) => String(arg).toLowerCase() === 'block')
  )
}

/** Command names Redis has are short words; anything else (a bug, a custom name) is one bucket. */
const COMMAND_NAME = /^[a-z][a-z0-9_.|-]{0,39}$/

let processRegistry: Registry | undefined

/**
 * The process's own metrics, once: prom-client's default metrics (their event-loop monitor
 * and GC observer live as long as the process), and Redis command round trips from
 * ioredis's diagnostics channel (`tracing:ioredis:command:*`, published by every ioredis
 * client in the process, BullMQ's included), from the moment a command is written to the
 * moment its reply settles it. Nothing is subscribed until metrics are served, so a
 * process without metrics pays nothing (ioredis skips tracing without subscribers).
 */
function processMetrics(): Registry {
  if (processRegistry) return processRegistry
  const registry = new Registry()
  collectDefaultMetrics({ register: registry })
  const redis = new Histogram({
    name: 'redis_command_duration_seconds',
    help: 'Redis command round trips as the client measures them, by command name (lower case)',
    labelNames: ['command'],
    buckets: REDIS_BUCKETS,
    registers: [registry],
  })
  const started = new WeakMap<object, number>()
  subscribe('tracing:ioredis:command:start', (message) => {
    const context = message as { command?: unknown; args?: unknown }
    if (typeof context.command !== 'string') return
    const command = context.command.toLowerCase()
    if (isBlocking(command, context.args)) return
    started.set(context, performance.now())
  })
  const settled = (message: unknown) => {
    const context = message as { command?: unknown }
    const at = started.get(context as object)
    if (at === undefined || typeof context.command !== 'string') return
    started.delete(context as object)
    const command = context.command.toLowerCase()
    redis.observe(
      { command: COMMAND_NAME.test(command) ? command : 'other' },
      (performance.now() - at) / 1_000,
    )
  }
  // A command that fails (an error reply, a timeout) still took its time: both count.
  subscribe('tracing:ioredis:command:asyncEnd', settled)
  subscribe('tracing:ioredis:command:error', settled)
  processRegistry = registry
  return registry
}

/** A registry for one app instance, with app_build_info and the helpers both services use. */
export function createMetrics(config: MetricsConfig): Metrics {
  const registry = new Registry()
  new Gauge({
    name: 'app_build_info',
    help: 'Always 1; carries the release',
    labelNames: ['version', 'commit'],
    registers: [registry],
  }).set({ version: config.version, commit: config.commit }, 1)

  const pools = new Map<string, PoolLike>()
  new Gauge({
    name: 'db_pool_connections',
    help: 'pg pool connections by state: total, idle, waiting (clients queued for a connection)',
    labelNames: ['pool', 'state'],
    registers: [registry],
    collect() {
      for (const [name, pool] of pools) {
        this.set({ pool: name, state: 'total' }, pool.totalCount)
        this.set({ pool: name, state: 'idle' }, pool.idleCount)
        this.set({ pool: name, state: 'waiting' }, pool.waitingCount)
      }
    },
  })
  new Gauge({
    name: 'db_pool_max_connections',
    help: "The pool's configured maximum",
    labelNames: ['pool'],
    registers: [registry],
    collect() {
      // node-postgres's default when the option is unset.
      for (const [name, pool] of pools) this.set({ pool: name }, pool.options.max ?? 10)
    },
  })

  let readiness: (() => Promise<Record<string, DependencyState>>) | undefined
  new Gauge({
    name: 'readiness_status',
    help: '1 when the dependency answered the last readiness check, else 0 (postgres, redis)',
    labelNames: ['dependency'],
    registers: [registry],
    async collect() {
      if (!readiness) return
      // The check bounds itself (READINESS_TIMEOUT_MS); a failure reads as every one down.
      const checks = await readiness().catch(() => undefined)
      if (!checks) {
        for (const dependency of ['postgres', 'redis']) this.set({ dependency }, 0)
        return
      }
      for (const [dependency, state] of Object.entries(checks))
        this.set({ dependency }, state === 'up' ? 1 : 0)
    },
  })

  return {
    registry,
    instrumentPool(pool, name) {
      pools.set(name, pool)
    },
    readinessFrom(check) {
      readiness = check
    },
    collectProcessMetrics() {
      processMetrics()
    },
    async scrape() {
      const merged = Registry.merge([processMetrics(), registry])
      merged.setDefaultLabels({ service: config.service })
      return merged.metrics()
    },
    contentType: Registry.PROMETHEUS_CONTENT_TYPE,
  }
}
