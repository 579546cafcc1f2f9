// pnpm bench:api — throughput and latency of an authenticated, tenant-scoped list
// (GET /v1/orgs/:orgId/projects?limit=50) through the real API, beside a baseline measured
// in the same run: a bare Fastify route running the same SQL through plain `pg`, no auth.
//
// Each server runs in a child process of its own (the real one is the production entry
// point, src/server.ts); autocannon runs here. They are measured one after the other,
// never together, each after a warm-up. BENCH_DURATION_S (default 10) sets the measured
// run, BENCH_WARMUP_S (default 3) the warm-up, BENCH_CONNECTIONS (default 50) the load,
// BENCH_POOL_MAX (default 10) both servers' pools; BENCH_CPU_PROF=<dir> writes a V8 CPU
// profile of the API process there; BENCH_BREAKDOWN=1 also measures the real route's
// layers one by one (bench/breakdown-server.ts).

import { type ChildProcess, spawn } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { once } from 'node:events'
import { cpus } from 'node:os'
import { resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { isDeepStrictEqual } from 'node:util'
import { booleanFlag, loadEnvOrExit, positiveInt } from '@repo/config'
import autocannon from 'autocannon'
import pg from 'pg'
import { z } from 'zod'
import { TEMPLATE_DATABASE } from '../../../packages/testing/src/context.ts'
import { cloneDatabase } from '../../../packages/testing/src/database.ts'
import { createTemplate } from '../../../packages/testing/src/global-setup.ts'
import {
  freePort,
  type PostgresServer,
  type RedisServer,
  startEphemeralPostgres,
  startEphemeralRedis,
} from '../../../packages/testing/src/servers/index.ts'
import { answers, waitUntil } from '../../../packages/testing/src/wait.ts'

const OTHER_ORGS = 20
const PROJECTS_PER_ORG = 500
const benchEnv = loadEnvOrExit(
  z.object({
    BENCH_POOL_MAX: positiveInt(10),
    BENCH_DURATION_S: positiveInt(10),
    BENCH_WARMUP_S: z.coerce.number().int().min(0).default(3),
    BENCH_CONNECTIONS: positiveInt(50),
    /** A directory: write a V8 CPU profile of the API process there. */
    BENCH_CPU_PROF: z.string().min(1).optional(),
    BENCH_BREAKDOWN: booleanFlag(false),
  }),
)
const POOL_MAX = benchEnv.BENCH_POOL_MAX
const DURATION_S = benchEnv.BENCH_DURATION_S
const WARMUP_S = benchEnv.BENCH_WARMUP_S
const CONNECTIONS = benchEnv.BENCH_CONNECTIONS
const CPU_PROF_DIR = benchEnv.BENCH_CPU_PROF
const BREAKDOWN = benchEnv.BENCH_BREAKDOWN
// The goal (issue): the real route reaches 60% of the baseline's req/s, p99 under 50 ms.
const GOAL_RATIO = 0.6
const GOAL_P99_MS = 50

const apiDir = fileURLToPath(new URL('..', import.meta.url))
const children: ChildProcess[] = []
// If this process goes down without reaching `finally`, its servers go with it.
process.once('exit', () => {
  for (const child of children) if (child.exitCode === null) child.kill('SIGKILL')
})

async function stopChild(child: ChildProcess) {
  if (child.exitCode !== null || child.signalCode !== null) return
  const exited = once(child, 'exit')
  child.kill('SIGTERM')
  const timer = setTimeout(() => child.kill('SIGKILL'), 10_000)
  await exited
  clearTimeout(timer)
}

/** The API (`entry`: its production entry point, or the breakdown server) on a free port. */
async function startApi(entry: string, env: Record<string, string>) {
  const port = await freePort()
  const child = spawn(
    process.execPath,
    [...(CPU_PROF_DIR ? ['--cpu-prof', `--cpu-prof-dir=${resolve(CPU_PROF_DIR)}`] : []), entry],
    {
      cwd: apiDir,
      env: { PATH: process.env.PATH ?? '', ...env, API_HOST: '127.0.0.1', API_PORT: String(port) },
      stdio: ['ignore', 'inherit', 'inherit'],
    },
  )
  children.push(child)
  const base = `http://127.0.0.1:${port}`
  await waitUntil(
    () => {
      if (child.exitCode !== null) throw new Error(`the API exited with code ${child.exitCode}`)
      return answers(`${base}/readyz`)
    },
    { what: 'the API to be ready', timeoutMs: 30_000 },
  )
  return { child, base }
}

/** The baseline server (bench/baseline-server.ts); it reports its port once listening. */
async function startBaseline(databaseUrl: string) {
  const child = spawn(process.execPath, ['bench/baseline-server.ts'], {
    cwd: apiDir,
    env: {
      PATH: process.env.PATH ?? '',
      NODE_ENV: 'production',
      DATABASE_URL: databaseUrl,
      DATABASE_POOL_MAX: String(POOL_MAX),
    },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  })
  children.push(child)
  const [message] = (await Promise.race([
    once(child, 'message'),
    once(child, 'exit').then(([code]) => {
      throw new Error(`the baseline server exited with code ${code}`)
    }),
  ])) as [{ port: number }]
  child.disconnect()
  return { child, base: `http://127.0.0.1:${message.port}` }
}

async function getJson<T = unknown>(url: string, headers: Record<string, string> = {}) {
  const res = await fetch(url, { headers })
  if (res.status !== 200) throw new Error(`GET ${url} answered ${res.status}: ${await res.text()}`)
  return (await res.json()) as T
}

async function postJson<T>(url: string, body: unknown, headers: Record<string, string> = {}) {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  })
  if (res.status !== 201) throw new Error(`POST ${url} answered ${res.status}: ${await res.text()}`)
  return (await res.json()) as T
}

interface Measured {
  reqPerSec: number
  p50: number
  p99: number
  requests: number
  failed: number
}

async function load(url: string, headers: Record<string, string>, seconds: number) {
  const result = await autocannon({ url, headers, connections: CONNECTIONS, duration: seconds })
  const failed = result.errors + result.timeouts + result.non2xx
  if (failed > 0) {
    throw new Error(
      `${url}: ${result.errors} errors, ${result.timeouts} timeouts, ${result.non2xx} non-2xx answers ` +
        `(${JSON.stringify(result.statusCodeStats)}); the figures would be meaningless`,
    )
  }
  return {
    reqPerSec: result.requests.average,
    p50: result.latency.p50,
    p99: result.latency.p99,
    requests: result.requests.total,
    failed,
  } satisfies Measured
}

async function measure(what: string, url: string, headers: Record<string, string> = {}) {
  process.stdout.write(`${what}: warm-up ${WARMUP_S} s, then ${DURATION_S} s... `)
  await load(url, headers, WARMUP_S)
  const measured = await load(url, headers, DURATION_S)
  console.log(`${measured.reqPerSec.toFixed(0)} req/s`)
  // Requests still in the server when autocannon stops must not overlap the next phase
  // (or a shutdown): let them drain.
  await new Promise((done) => setTimeout(done, 1_000))
  return measured
}

// BENCH_BREAKDOWN: each route of bench/breakdown-server.ts adds one layer to the one before.
const LAYERS = [
  ['1-app-pg', 'the app (every plugin), same SQL through pg, public, limits off'],
  ['2-prisma', '+ Prisma findMany instead of pg (owner login, no transaction)'],
  ['3-tenant', '+ listProjects: withTenant transaction, app login, RLS'],
  ['4-ip-limit', '+ per-IP rate limit (Redis)'],
  ['5-session', '+ session check (Bearer token)'],
  ['6-membership', '+ membership check (resolveMembership: one statement)'],
  ['7-all-limits', '+ per-user and per-organization rate limits'],
] as const

let postgres: PostgresServer | undefined
let redis: RedisServer | undefined
try {
  const started = performance.now()
  ;[postgres, redis] = await Promise.all([
    startEphemeralPostgres('local'),
    startEphemeralRedis({ runtime: 'local', databases: 1 }),
  ])
  await createTemplate(postgres.url)
  const database = await cloneDatabase(postgres.url, TEMPLATE_DATABASE)

  const owner = new pg.Client({ connectionString: database.url })
  await owner.connect()
  const seedProjects = (where: string) =>
    owner.query(
      `INSERT INTO projects (id, organization_id, name, description, status, version, created_at, updated_at)
       SELECT gen_random_uuid(), o.id, 'Project ' || n, 'What project ' || n || ' is about',
              (CASE WHEN n % 10 = 0 THEN 'archived' ELSE 'active' END)::project_status, 1,
              now() - n * interval '1 minute', now()
       FROM organizations o, generate_series(1, ${PROJECTS_PER_ORG}) AS n
       WHERE ${where}`,
    )
  // Other tenants' rows, which the benchmarked organization must not see.
  await owner.query(
    `INSERT INTO organizations (id, name, updated_at)
     SELECT gen_random_uuid(), 'Org ' || i, now() FROM generate_series(1, ${OTHER_ORGS}) AS i`,
  )
  await seedProjects('true')

  // Production-like: production mode (so a real MFA key), warn-level logs, limits and
  // load shedding on their code path but with room to spare, the default pool size.
  const apiEnv = {
    NODE_ENV: 'production',
    MFA_ENCRYPTION_KEY: randomBytes(32).toString('base64'),
    API_PUBLIC_URL: 'http://127.0.0.1',
    APP_URL: 'https://app.example.com',
    TRUST_PROXY: 'loopback',
    LOG_LEVEL: 'warn',
    DATABASE_URL: database.appUrl,
    DATABASE_POOL_MAX: String(POOL_MAX),
    REDIS_URL: redis.url,
    AUTH_RATE_LIMIT_PER_MINUTE: '1000',
    RATE_LIMIT_IP_PER_MINUTE: '100000000',
    RATE_LIMIT_USER_PER_MINUTE: '100000000',
    RATE_LIMIT_ORG_PER_MINUTE: '100000000',
    PRESSURE_MAX_EVENT_LOOP_DELAY_MS: '0',
    PRESSURE_MAX_EVENT_LOOP_UTILIZATION: '0',
  }
  const api = await startApi('src/server.ts', apiEnv)
  const signUp = await postJson<{ token: string }>(`${api.base}/v1/auth/sign-up`, {
    email: `bench-${randomBytes(4).toString('hex')}@example.com`,
    password: 'correct horse battery staple',
    name: 'Bench Owner',
  })
  const auth = { authorization: `Bearer ${signUp.token}` }
  const org = await postJson<{ id: string }>(`${api.base}/v1/orgs`, { name: 'Bench' }, auth)
  const orgId: string = org.id
  await seedProjects(`o.id = '${orgId}'`)
  await owner.query('ANALYZE')
  await owner.end()

  const baseline = await startBaseline(database.url)
  const realUrl = `${api.base}/v1/orgs/${orgId}/projects?limit=50`
  const baselineUrl = `${baseline.base}/baseline/${orgId}/projects`
  // Both must answer the same page, or the comparison is of different work.
  const [realPage, baselinePage] = await Promise.all([
    getJson<{ data: unknown[] }>(realUrl, auth),
    getJson(baselineUrl),
  ])
  if (realPage.data.length !== 50 || !isDeepStrictEqual(realPage, baselinePage))
    throw new Error('the real route and the baseline answer different pages')
  const setupS = (performance.now() - started) / 1000

  const rows: Array<[string, Measured]> = []
  const base = await measure('baseline', baselineUrl)
  rows.push(['baseline: bare Fastify + pg, owner login, no auth (1 query)', base])
  await stopChild(baseline.child)
  if (BREAKDOWN) {
    const breakdown = await startApi('bench/breakdown-server.ts', {
      ...apiEnv,
      OWNER_DATABASE_URL: database.url,
    })
    for (const [path, name] of LAYERS) {
      const url = `${breakdown.base}/bench/${path}/${orgId}`
      if (!isDeepStrictEqual(await getJson(url, auth), baselinePage))
        throw new Error(`${url} answers another page than the baseline`)
      rows.push([name, await measure(path, url, auth)])
    }
    await stopChild(breakdown.child)
  }
  const real = await measure('real route', realUrl, auth)
  rows.push(['real: GET /v1/orgs/:orgId/projects?limit=50 (src/server.ts)', real])
  await stopChild(api.child)

  const ratio = real.reqPerSec / base.reqPerSec
  const met = ratio >= GOAL_RATIO && real.p99 < GOAL_P99_MS
  const ms = (value: number) => value.toFixed(1)
  console.log(
    `\nMachine: ${cpus().length} x ${cpus()[0]?.model}, Node ${process.version}, ${postgres.description}`,
  )
  console.log(
    `${OTHER_ORGS + 1} organizations x ${PROJECTS_PER_ORG} projects; ${CONNECTIONS} connections, ` +
      `${WARMUP_S} s warm-up + ${DURATION_S} s each; pool ${POOL_MAX}; set-up ${setupS.toFixed(1)} s\n`,
  )
  console.log('| what | req/s | of baseline | p50 ms | p99 ms | requests | failed |')
  console.log('| --- | ---: | ---: | ---: | ---: | ---: | ---: |')
  for (const [name, r] of rows) {
    const share = `${((r.reqPerSec / base.reqPerSec) * 100).toFixed(0)}%`
    console.log(
      `| ${name} | ${r.reqPerSec.toFixed(0)} | ${share} | ${ms(r.p50)} | ${ms(r.p99)} | ${r.requests} | ${r.failed} |`,
    )
  }
  console.log(
    `\nreal / baseline: ${(ratio * 100).toFixed(0)}% of req/s (goal >= ${GOAL_RATIO * 100}%), ` +
      `p99 ${ms(real.p99)} ms (goal < ${GOAL_P99_MS} ms): ${met ? 'PASS' : 'MISS'}`,
  )
} finally {
  await Promise.all(children.map(stopChild))
  await Promise.all([postgres?.stop(), redis?.stop()])
}
