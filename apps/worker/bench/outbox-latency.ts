// The outbox's half of pnpm bench:jobs (ADR 038): how long a job waits from the commit
// that recorded it to its handler's start, at a steady rate of commits, with the relay
// polling (listener off) and woken by commits (listener on), in the same run; and what the
// outbox trigger's NOTIFY costs commits.
import { type ChildProcess, fork } from 'node:child_process'
import { readdirSync, readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { defineJob, jobEnvelope, jobOptions } from '@repo/jobs'
import { Queue } from 'bullmq'
import pg from 'pg'
import { z } from 'zod'

export const outboxBenchJob = defineJob({
  name: 'bench.outbox',
  version: 1,
  queue: 'bench-outbox',
  schema: z.object({ seq: z.number().int() }).strict(),
})

export interface OutboxBenchDatabase {
  /** The owner, to reset the outbox and toggle the trigger. */
  ownerUrl: string
  /** The API's login, which commits (row-level security applies). */
  appUrl: string
  /** The worker's login, for the relay and the listener. */
  workerUrl: string
  organizationId: string
  /** Process ids whose CPU time is measured: the servers' main processes. */
  postgresPid?: number | undefined
  redisPid?: number | undefined
}

/**
 * One commit as the API makes one: BEGIN with the tenant setting (ADR 037), the outbox
 * row with its job's envelope and options, COMMIT, in one round trip.
 */
function commitText(organizationId: string, seq: number) {
  const literal = (value: unknown) => pg.escapeLiteral(JSON.stringify(value))
  const data = jobEnvelope(outboxBenchJob, { seq }, { organizationId })
  return `BEGIN; SELECT set_config('app.organization_id', ${pg.escapeLiteral(organizationId)}, true);
    INSERT INTO outbox_messages (id, organization_id, queue, job_name, data, options)
    VALUES (gen_random_uuid(), ${pg.escapeLiteral(organizationId)}, ${pg.escapeLiteral(outboxBenchJob.queue)},
      ${pg.escapeLiteral(outboxBenchJob.name)}, ${literal(data)}, ${literal(jobOptions(outboxBenchJob))});
    COMMIT`
}

const TICKS_PER_SECOND = 100 // Linux's USER_HZ: /proc stat times are in these

/** CPU seconds of `pid` and its children (a postmaster's backends), from /proc; 0 elsewhere. */
function processTreeCpu(pid: number | undefined): number {
  if (pid === undefined) return 0
  let ticks = 0
  try {
    for (const entry of readdirSync('/proc')) {
      if (!/^\d+$/.test(entry)) continue
      try {
        const stat = readFileSync(`/proc/${entry}/stat`, 'utf8')
        const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
        if (Number(entry) === pid || Number(fields[1]) === pid)
          ticks += Number(fields[11]) + Number(fields[12])
      } catch {}
    }
  } catch {
    return 0
  }
  return ticks / TICKS_PER_SECOND
}

const percentile = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor((sorted.length * p) / 100))] as number

/** Starts `perSecond` commits a second for `seconds` (open loop: a slow commit does not slow the rate). */
async function commitAtRate(
  pool: pg.Pool,
  organizationId: string,
  perSecond: number,
  seconds: number,
  firstSeq: number,
  committed: Map<number, number>,
) {
  const total = Math.round(perSecond * seconds)
  const start = performance.now()
  const pending: Promise<unknown>[] = []
  for (let i = 0; i < total; i++) {
    const due = start + (i * 1000) / perSecond
    const wait = due - performance.now()
    if (wait > 1) await new Promise((resolve) => setTimeout(resolve, wait))
    const seq = firstSeq + i
    // From the moment the transaction is sent: the commit itself is part of the wait.
    committed.set(seq, performance.timeOrigin + performance.now())
    pending.push(pool.query(commitText(organizationId, seq)))
  }
  await Promise.all(pending)
  return total
}

interface WorkerReport {
  usage: NodeJS.CpuUsage
  steps: { passes: number; messages: number; claimMs: number; publishMs: number; markMs: number }
}

/**
 * How the relay learns of commits: `polling` (OUTBOX_LISTEN=false: every 500 ms) or
 * `woken` (the listener); `, sequential`: one publish at a time, as before publishing was
 * concurrent.
 */
export type OutboxMode = 'polling' | 'woken' | 'polling, sequential' | 'woken, sequential'

/** The bench's worker process (outbox-worker.ts), once ready (and listening, if asked). */
async function startWorker(
  database: OutboxBenchDatabase,
  redisUrl: string,
  mode: OutboxMode,
  cpuProfileDir: string | undefined,
) {
  const listen = mode.startsWith('woken')
  const child: ChildProcess = fork(
    fileURLToPath(new URL('./outbox-worker.ts', import.meta.url)),
    [],
    {
      env: {
        ...process.env,
        DATABASE_URL: database.workerUrl,
        REDIS_URL: redisUrl,
        LISTEN_URL: listen ? database.workerUrl : '',
        PUBLISH_CONCURRENCY: mode.endsWith('sequential') ? '1' : '',
      },
      execArgv: cpuProfileDir ? ['--cpu-prof', '--cpu-prof-dir', cpuProfileDir] : [],
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    },
  )
  const started = new Map<number, number>()
  let ready = false
  let listening = false
  const last: { cpu?: WorkerReport | undefined } = {}
  child.on(
    'message',
    (message: {
      ready?: boolean
      listening?: boolean
      started?: Array<[number, number]>
      cpu?: NodeJS.CpuUsage
      steps?: WorkerReport['steps']
    }) => {
      if (message.ready) ready = true
      if (message.listening) listening = true
      for (const [seq, at] of message.started ?? []) started.set(seq, at)
      if (message.cpu && message.steps) last.cpu = { usage: message.cpu, steps: message.steps }
    },
  )
  const until = async (condition: () => boolean, what: string, timeoutMs = 30_000) => {
    const deadline = Date.now() + timeoutMs
    while (!condition()) {
      if (Date.now() > deadline || child.exitCode !== null)
        throw new Error(`the bench worker: no ${what} within ${timeoutMs} ms`)
      await new Promise((resolve) => setTimeout(resolve, 10))
    }
  }
  await until(() => ready && (!listen || listening), listen ? 'listener' : 'start')
  return {
    started,
    until,
    /** This process's CPU time so far, and its relay's passes (step times summed). */
    async cpu() {
      last.cpu = undefined
      child.send({ cpu: true })
      await until(() => last.cpu !== undefined, 'CPU report')
      return last.cpu as unknown as WorkerReport
    },
    async stop() {
      const exited = new Promise((resolve) => child.once('exit', resolve))
      child.send({ stop: true })
      await exited
    },
  }
}

export interface LatencyResult {
  mode: string
  commits: number
  p50: number
  p95: number
  p99: number
  max: number
  /** CPU, in percent of one core over the measured window. */
  workerCpu: number
  postgresCpu: number
  redisCpu: number
  /** Relay passes per second, messages per pass, and a pass's steps in ms (means). */
  passesPerSecond: number
  perPass: number
  claimMs: number
  publishMs: number
  markMs: number
  /** The committing process's CPU (the bench itself), in percent of one core. */
  committerCpu: number
}

/**
 * Commits at `perSecond` for `warmupSeconds` (not counted) and `seconds` (counted) with the
 * relay polling or woken; the latency of each counted commit to its handler's start.
 */
export async function measureOutboxLatency(options: {
  database: OutboxBenchDatabase
  redisUrl: string
  mode: OutboxMode
  perSecond: number
  seconds: number
  warmupSeconds: number
  /** Where the worker process writes a CPU profile (node --cpu-prof), if set. */
  cpuProfileDir?: string | undefined
}): Promise<LatencyResult> {
  const { database, redisUrl, perSecond, seconds } = options
  const owner = new pg.Client({ connectionString: database.ownerUrl })
  await owner.connect()
  await owner.query('DELETE FROM outbox_messages')
  await owner.end()
  const queue = new Queue(outboxBenchJob.queue, { connection: { url: redisUrl } })
  await queue.obliterate({ force: true })
  await queue.close()

  const pool = new pg.Pool({ connectionString: database.appUrl, max: 16 })
  pool.on('error', () => {}) // a connection ended by the server when the bench stops it
  const worker = await startWorker(database, redisUrl, options.mode, options.cpuProfileDir)
  try {
    const committed = new Map<number, number>()
    const warmup = await commitAtRate(
      pool,
      database.organizationId,
      perSecond,
      options.warmupSeconds,
      0,
      new Map(),
    )
    const before = {
      worker: await worker.cpu(),
      committer: process.cpuUsage(),
      postgres: processTreeCpu(database.postgresPid),
      redis: processTreeCpu(database.redisPid),
      at: performance.now(),
    }
    const commits = await commitAtRate(
      pool,
      database.organizationId,
      perSecond,
      seconds,
      warmup,
      committed,
    )
    await worker.until(
      () => [...committed.keys()].every((seq) => worker.started.has(seq)),
      'handler start for every commit',
    )
    const elapsed = (performance.now() - before.at) / 1000
    const after = await worker.cpu()
    const cpuSeconds = (usage: NodeJS.CpuUsage) => (usage.user + usage.system) / 1e6
    const latencies = [...committed]
      .map(([seq, at]) => (worker.started.get(seq) as number) - at)
      .sort((a, b) => a - b)
    const percent = (s: number) => (100 * s) / elapsed
    const passes = after.steps.passes - before.worker.steps.passes
    const step = (key: 'claimMs' | 'publishMs' | 'markMs') =>
      (after.steps[key] - before.worker.steps[key]) / passes
    return {
      mode: options.mode,
      commits,
      p50: percentile(latencies, 50),
      p95: percentile(latencies, 95),
      p99: percentile(latencies, 99),
      max: latencies.at(-1) as number,
      workerCpu: percent(cpuSeconds(after.usage) - cpuSeconds(before.worker.usage)),
      postgresCpu: percent(processTreeCpu(database.postgresPid) - before.postgres),
      redisCpu: percent(processTreeCpu(database.redisPid) - before.redis),
      passesPerSecond: passes / elapsed,
      perPass: (after.steps.messages - before.worker.steps.messages) / passes,
      claimMs: step('claimMs'),
      publishMs: step('publishMs'),
      markMs: step('markMs'),
      committerCpu: percent(cpuSeconds(process.cpuUsage(before.committer))),
    }
  } finally {
    await worker.stop()
    await pool.end()
  }
}

export interface ThroughputResult {
  variant: string
  commitsPerSecond: number
}

/**
 * Commits as fast as `connections` clients can for `seconds` (closed loop, no relay), with
 * the trigger off, or on with `listeners` sessions LISTENing (each reads every notification).
 */
export async function measureCommitThroughput(options: {
  database: OutboxBenchDatabase
  connections: number
  seconds: number
  trigger: boolean
  listeners: number
}): Promise<ThroughputResult> {
  const { database } = options
  const owner = new pg.Client({ connectionString: database.ownerUrl })
  await owner.connect()
  const listeners: pg.Client[] = []
  const pool = new pg.Pool({ connectionString: database.appUrl, max: options.connections })
  pool.on('error', () => {}) // a connection ended by the server when the bench stops it
  try {
    await owner.query('DELETE FROM outbox_messages')
    await owner.query(
      `ALTER TABLE outbox_messages ${options.trigger ? 'ENABLE' : 'DISABLE'} TRIGGER outbox_messages_notify`,
    )
    for (let i = 0; i < options.listeners; i++) {
      const listener = new pg.Client({ connectionString: database.workerUrl })
      await listener.connect()
      listener.on('notification', () => {})
      await listener.query('LISTEN outbox_messages')
      listeners.push(listener)
    }
    // Every client connected before the clock starts.
    await Promise.all(
      Array.from({ length: options.connections }, async () => {
        const client = await pool.connect()
        client.release()
      }),
    )
    let commits = 0
    const end = performance.now() + options.seconds * 1000
    await Promise.all(
      Array.from({ length: options.connections }, async () => {
        while (performance.now() < end) {
          await pool.query(commitText(database.organizationId, commits))
          commits++
        }
      }),
    )
    return {
      variant: options.trigger
        ? `trigger on, ${options.listeners} listener${options.listeners === 1 ? '' : 's'}`
        : 'trigger off',
      commitsPerSecond: commits / options.seconds,
    }
  } finally {
    await owner.query('ALTER TABLE outbox_messages ENABLE TRIGGER outbox_messages_notify')
    await owner.end()
    await pool.end()
    await Promise.all(listeners.map((listener) => listener.end()))
  }
}
