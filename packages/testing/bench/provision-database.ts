// pnpm bench:testdb — how long one test file waits for its isolated database and Redis
// namespace, beside the baseline of migrating a fresh database, measured in the same run.

import { cpus } from 'node:os'
import { loadEnvOrExit, positiveInt } from '@repo/config'
import { applyMigrations } from '@repo/db/migrate'
import { z } from 'zod'
import { TEMPLATE_DATABASE } from '../src/context.ts'
import { cloneDatabase, withAdmin } from '../src/database.ts'
import { createTemplate } from '../src/global-setup.ts'
import { allocateRedisDatabase } from '../src/redis.ts'
import { chooseRuntime, startEphemeralPostgres, startEphemeralRedis } from '../src/servers/index.ts'

const { BENCH_ITERATIONS: ITERATIONS } = loadEnvOrExit(
  z.object({ BENCH_ITERATIONS: positiveInt(40) }),
)

function summarize(samples: number[]) {
  const sorted = [...samples].sort((a, b) => a - b)
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0
  const mean = sorted.reduce((sum, x) => sum + x, 0) / sorted.length
  return { mean, p50: at(0.5), p95: at(0.95), max: sorted.at(-1) ?? 0 }
}

async function time(work: () => Promise<unknown>): Promise<number> {
  const started = performance.now()
  await work()
  return performance.now() - started
}

const runtime = await chooseRuntime()
const setupStarted = performance.now()
const [postgres, redis] = await Promise.all([
  startEphemeralPostgres(runtime),
  startEphemeralRedis({ runtime, databases: 512 }),
])
const serversMs = performance.now() - setupStarted
try {
  const templateMs = await time(() => createTemplate(postgres.url))
  const cases: Record<string, () => Promise<unknown>> = {
    'isolated DB + Redis namespace (what each test file gets: FILE_COPY clone + Redis db)':
      async () => {
        const [db] = await Promise.all([
          cloneDatabase(postgres.url, TEMPLATE_DATABASE, 'FILE_COPY'),
          allocateRedisDatabase(redis.url, 512),
        ])
        return db
      },
    'clone with STRATEGY WAL_LOG (Postgres default)': () =>
      cloneDatabase(postgres.url, TEMPLATE_DATABASE, 'WAL_LOG'),
    'baseline: empty database + apply migrations': async () => {
      const db = await cloneDatabase(postgres.url, 'template0')
      await applyMigrations({ databaseUrl: db.url, log: () => {} })
      return db
    },
  }
  const results: Array<[string, ReturnType<typeof summarize>]> = []
  for (const [name, work] of Object.entries(cases)) {
    const samples: number[] = []
    for (let i = 0; i < ITERATIONS + 3; i++) {
      let created: unknown
      const ms = await time(async () => {
        created = await work()
      })
      if (i >= 3) samples.push(ms) // the first runs warm caches
      await (created as { drop(): Promise<void> }).drop()
    }
    results.push([name, summarize(samples)])
  }
  const tables = await withAdmin(postgres.url, async (admin) => {
    const { rows } = await admin.query(
      `SELECT pg_size_pretty(pg_database_size('${TEMPLATE_DATABASE}')) AS size`,
    )
    return rows[0]?.size as string
  })

  const fmt = (ms: number) => ms.toFixed(1)
  console.log(
    `\nMachine: ${cpus().length} x ${cpus()[0]?.model ?? 'cpu'}, Node ${process.version}, runtime: ${runtime} (${postgres.description})`,
  )
  console.log(
    `Servers started in ${fmt(serversMs)} ms; template migrated in ${fmt(templateMs)} ms; template size ${tables}; ${ITERATIONS} iterations each\n`,
  )
  console.log('| what | mean ms | p50 ms | p95 ms | max ms |')
  console.log('| --- | ---: | ---: | ---: | ---: |')
  for (const [name, s] of results)
    console.log(`| ${name} | ${fmt(s.mean)} | ${fmt(s.p50)} | ${fmt(s.p95)} | ${fmt(s.max)} |`)
} finally {
  await Promise.all([postgres.stop(), redis.stop()])
}
