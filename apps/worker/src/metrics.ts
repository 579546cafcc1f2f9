import { outboxStats } from '@repo/core'
import type { PrismaClient } from '@repo/db'
import {
  Counter,
  createMetrics,
  type DependencyState,
  Gauge,
  Histogram,
  type Logger,
  type Metrics,
} from '@repo/observability'
import type { Queue } from 'bullmq'
import pTimeout from 'p-timeout'

/** How a job's attempt ended: done, failed with attempts left, or failed for good. */
export type JobOutcome = 'completed' | 'failed' | 'dead_letter'
/** How a webhook delivery attempt ended (see webhook_deliveries_total's help). */
export type WebhookOutcome = 'delivered' | 'failed' | 'dead_letter' | 'skipped'

/** What job processing reports; createWorker and the webhook handlers take it optionally. */
export interface JobMetrics {
  jobFinished(queue: string, jobName: string, outcome: JobOutcome, seconds: number): void
  webhookDelivery(outcome: WebhookOutcome): void
}

export interface WorkerMetricsOptions {
  version: string
  commit: string
  logger: Logger
  /**
   * The queues counted at scrape time (queue_jobs), the dead-letter queue included, on a
   * connection that fails fast; `ready` false skips counting (Redis is down).
   */
  queues?: {
    names: string[]
    get(name: string): Pick<Queue, 'getJobCounts'>
    ready(): boolean
  }
  /** The worker's database client: the outbox's backlog and lag are read at scrape time. */
  db?: PrismaClient
  /** The probes' checks, asked at scrape time for readiness_status. */
  readiness?: () => Promise<Record<string, DependencyState>>
  /** Each scrape-time collection (Redis counts, the outbox query) gives up after this. */
  collectTimeoutMs?: number
}

export interface WorkerMetrics extends JobMetrics {
  metrics: Metrics
}

const STATES = ['waiting', 'active', 'delayed', 'failed', 'completed'] as const
// BullMQ keeps jobs with a priority apart from `wait`: for an operator both wait.
const WAITING = ['waiting', 'prioritized'] as const

/**
 * The worker's Prometheus metrics (contract: infra/monitoring/metrics.json): job durations
 * and outcomes, webhook delivery outcomes, and, collected when scraped, jobs per queue and
 * state and the outbox's backlog and lag. Scrape-time collections are bounded: a slow or
 * absent Redis leaves queue_jobs out of that scrape, a slow or absent Postgres reads the
 * outbox gauges as NaN (and logs why once), instead of holding the scrape.
 */
export function createWorkerMetrics(options: WorkerMetricsOptions): WorkerMetrics {
  const metrics = createMetrics({
    service: 'worker',
    version: options.version,
    commit: options.commit,
  })
  const { registry } = metrics
  const timeoutMs = options.collectTimeoutMs ?? 1_000
  let lastProblem = ''
  const unavailable = (what: string, error: unknown) => {
    const message = `${what}: ${(error as Error)?.message ?? String(error)}`
    if (message !== lastProblem) options.logger.warn({ err: message }, 'metrics not collected')
    lastProblem = message
  }

  const jobs = new Histogram({
    name: 'job_duration_seconds',
    help: 'Jobs processed, by outcome: completed, failed (will retry), dead_letter (out of attempts)',
    labelNames: ['queue', 'job_name', 'outcome'],
    buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900],
    registers: [registry],
  })
  const deliveries = new Counter({
    name: 'webhook_deliveries_total',
    help: 'Outgoing webhook delivery attempts: delivered, failed (will retry), dead_letter, skipped (endpoint disabled or gone)',
    labelNames: ['outcome'],
    registers: [registry],
  })

  const { queues } = options
  new Gauge({
    name: 'queue_jobs',
    help: 'Jobs per queue and state: waiting, active, delayed, failed, completed; the dead-letter queue is queue="dead-letter", state="waiting"',
    labelNames: ['queue', 'state'],
    registers: [registry],
    async collect() {
      // Absent rather than stale: a scrape that could not count says nothing.
      this.reset()
      if (!queues) return
      if (!queues.ready()) return unavailable('queue_jobs', new Error('redis is not connected'))
      try {
        const counted = await pTimeout(
          Promise.all(
            queues.names.map(async (name) => ({
              name,
              counts: await queues.get(name).getJobCounts(...WAITING, ...STATES.slice(1)),
            })),
          ),
          { milliseconds: timeoutMs, message: `counting took over ${timeoutMs} ms` },
        )
        for (const { name, counts } of counted) {
          const waiting = WAITING.reduce((sum, state) => sum + (counts[state] ?? 0), 0)
          this.set({ queue: name, state: 'waiting' }, waiting)
          for (const state of STATES.slice(1)) this.set({ queue: name, state }, counts[state] ?? 0)
        }
      } catch (error) {
        unavailable('queue_jobs', error)
      }
    },
  })

  // One query answers both outbox gauges; a scrape asks it once.
  let outbox: Promise<{ backlog: number; oldestAgeSeconds: number } | undefined> | undefined
  const readOutbox = () => {
    const db = options.db
    if (!db) return Promise.resolve(undefined)
    outbox ??= pTimeout(outboxStats({ db }), {
      milliseconds: timeoutMs,
      message: `the outbox query took over ${timeoutMs} ms`,
    })
      .catch((error: unknown) => {
        unavailable('outbox', error)
        return undefined
      })
      .finally(() => {
        setImmediate(() => {
          outbox = undefined
        })
      })
    return outbox
  }
  new Gauge({
    name: 'outbox_backlog',
    help: 'Outbox rows not yet relayed to the queues',
    registers: [registry],
    async collect() {
      // A gauge without labels cannot be absent: NaN says "not known", never "empty".
      const stats = await readOutbox()
      this.set(stats ? stats.backlog : Number.NaN)
    },
  })
  new Gauge({
    name: 'outbox_lag_seconds',
    help: 'Age of the oldest outbox row not yet relayed (0 when none)',
    registers: [registry],
    async collect() {
      const stats = await readOutbox()
      this.set(stats ? stats.oldestAgeSeconds : Number.NaN)
    },
  })

  if (options.readiness) metrics.readinessFrom(options.readiness)

  return {
    metrics,
    jobFinished(queue, jobName, outcome, seconds) {
      jobs.observe({ queue, job_name: jobName, outcome }, seconds)
    },
    webhookDelivery(outcome) {
      deliveries.inc({ outcome })
    },
  }
}
