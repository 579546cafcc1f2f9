// pnpm bench:rls — the cost of the row-level-security path (application login, tenant
// context in a transaction) against the same query without it, measured in one run.
// BENCH_ROUNDS=n measures every row n times, alternating rows, and reports the medians:
// on a shared machine, rows measured minutes apart see different loads.

import { randomUUID } from 'node:crypto'
import { cpus } from 'node:os'
import { PrismaPg } from '@prisma/adapter-pg'
import { loadEnvOrExit, positiveInt } from '@repo/config'
import pg from 'pg'
import { z } from 'zod'
import { TEMPLATE_DATABASE, TEST_APP_LOGIN } from '../../testing/src/context.ts'
import { cloneDatabase } from '../../testing/src/database.ts'
import { createTemplate } from '../../testing/src/global-setup.ts'
import { startEphemeralPostgres } from '../../testing/src/servers/index.ts'
import { PrismaClient as GeneratedClient } from '../src/generated/prisma/client.ts'
import { createDatabaseClient, type PrismaClient, withTenant } from '../src/index.ts'

const ORGS = 20
const MEMBERS_PER_ORG = 500
const { BENCH_OPERATIONS: OPERATIONS, BENCH_ROUNDS: ROUNDS } = loadEnvOrExit(
  z.object({ BENCH_OPERATIONS: positiveInt(3_000), BENCH_ROUNDS: positiveInt(1) }),
)
const CONCURRENCY = 10

const config = (url: string) => ({
  DATABASE_URL: url,
  DATABASE_POOL_MAX: CONCURRENCY,
  DATABASE_CONNECT_TIMEOUT_MS: 5_000,
  DATABASE_STATEMENT_TIMEOUT_MS: 10_000,
})

async function measure(run: () => Promise<unknown>) {
  for (let i = 0; i < 200; i++) await run() // warm-up
  const latencies: number[] = []
  let next = 0
  const cpuBefore = process.cpuUsage()
  const started = performance.now()
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next++ < OPERATIONS) {
        const t = performance.now()
        await run()
        latencies.push(performance.now() - t)
      }
    }),
  )
  const seconds = (performance.now() - started) / 1000
  const cpu = process.cpuUsage(cpuBefore)
  latencies.sort((a, b) => a - b)
  const at = (q: number) => latencies[Math.floor(q * (latencies.length - 1))] ?? 0
  return {
    opsPerSec: OPERATIONS / seconds,
    p50: at(0.5),
    p99: at(0.99),
    // This process's CPU per operation (Prisma, pg): less swayed by other load than ops/s.
    cpuUs: (cpu.user + cpu.system) / OPERATIONS,
  }
}

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.floor((sorted.length - 1) / 2)] ?? 0
}

const server = await startEphemeralPostgres('local')
try {
  await createTemplate(server.url)
  const database = await cloneDatabase(server.url, TEMPLATE_DATABASE)
  const appUrl = database.url.replace(
    /\/\/[^@]+@/,
    `//${TEST_APP_LOGIN.user}:${TEST_APP_LOGIN.password}@`,
  )
  const owner: PrismaClient = createDatabaseClient(config(database.url))
  const app: PrismaClient = createDatabaseClient(config(appUrl))
  // The same pool without createDatabaseClient's connection class: withTenant then sends
  // the settings in a statement of their own, as it did before ADR 037.
  const separate = new pg.Pool({
    connectionString: appUrl,
    max: CONCURRENCY,
    statement_timeout: config(appUrl).DATABASE_STATEMENT_TIMEOUT_MS,
  })
  const appSeparate: PrismaClient = new GeneratedClient({
    adapter: new PrismaPg(separate, { disposeExternalPool: true }),
  })

  const orgIds = Array.from({ length: ORGS }, () => randomUUID())
  await owner.organization.createMany({ data: orgIds.map((id, i) => ({ id, name: `Org ${i}` })) })
  for (const organizationId of orgIds) {
    const users = Array.from({ length: MEMBERS_PER_ORG }, () => ({
      id: randomUUID(),
      email: `${randomUUID()}@bench.test`,
      name: 'Member',
    }))
    await owner.user.createMany({ data: users })
    await owner.membership.createMany({
      data: users.map((u) => ({ organizationId, userId: u.id, role: 'member' as const })),
    })
  }
  await owner.$executeRawUnsafe('ANALYZE')
  const pick = () => orgIds[Math.floor(Math.random() * ORGS)] as string
  const list = { take: 50, orderBy: { createdAt: 'desc' as const } }

  const scenarios: Record<string, () => Promise<unknown>> = {
    'baseline: owner login, no RLS, no transaction (1 query)': () =>
      owner.membership.findMany({ where: { organizationId: pick() }, ...list }),
    'RLS: app login, withTenant (BEGIN with the settings, 1 query, COMMIT)': () => {
      const organizationId = pick()
      return withTenant(app, { organizationId }, (tx) =>
        tx.membership.findMany({ where: { organizationId }, ...list }),
      )
    },
    'RLS: app login, withTenant, settings in a statement of their own (BEGIN, set_config, 1 query, COMMIT)':
      () => {
        const organizationId = pick()
        return withTenant(appSeparate, { organizationId }, (tx) =>
          tx.membership.findMany({ where: { organizationId }, ...list }),
        )
      },
    'owner login, same transaction and settings, no RLS (the transaction cost alone)': () => {
      const organizationId = pick()
      return withTenant(owner, { organizationId }, (tx) =>
        tx.membership.findMany({ where: { organizationId }, ...list }),
      )
    },
    'RLS: app login, batch $transaction([set_config, query]) (no interactive transaction)': () => {
      const organizationId = pick()
      return app.$transaction([
        app.$executeRaw`SELECT set_config('app.organization_id', ${organizationId}, true)`,
        app.membership.findMany({ where: { organizationId }, ...list }),
      ])
    },
    'baseline: 3 queries, owner login, no transaction': async () => {
      const organizationId = pick()
      for (let i = 0; i < 3; i++)
        await owner.membership.findMany({ where: { organizationId }, ...list })
    },
    'RLS: 3 queries in one withTenant (one transaction per unit of work)': () => {
      const organizationId = pick()
      return withTenant(app, { organizationId }, async (tx) => {
        for (let i = 0; i < 3; i++)
          await tx.membership.findMany({ where: { organizationId }, ...list })
      })
    },
    'RLS: 3 queries in one withTenant, settings in a statement of their own': () => {
      const organizationId = pick()
      return withTenant(appSeparate, { organizationId }, async (tx) => {
        for (let i = 0; i < 3; i++)
          await tx.membership.findMany({ where: { organizationId }, ...list })
      })
    },
    'RLS: 3 queries, a withTenant each (one transaction per query)': async () => {
      const organizationId = pick()
      for (let i = 0; i < 3; i++) {
        await withTenant(app, { organizationId }, (tx) =>
          tx.membership.findMany({ where: { organizationId }, ...list }),
        )
      }
    },
  }
  const rounds = Object.fromEntries(
    Object.keys(scenarios).map((name) => [name, [] as Awaited<ReturnType<typeof measure>>[]]),
  )
  for (let round = 0; round < ROUNDS; round++)
    for (const [name, run] of Object.entries(scenarios)) rounds[name]?.push(await measure(run))

  console.log(
    `\nMachine: ${cpus().length} x ${cpus()[0]?.model}, Node ${process.version}, ${server.description}`,
  )
  console.log(
    `${ORGS} organizations x ${MEMBERS_PER_ORG} members; ${OPERATIONS} operations at concurrency ${CONCURRENCY}; list of 50 by created_at; ${ROUNDS === 1 ? 'one round' : `median of ${ROUNDS} alternating rounds`}\n`,
  )
  console.log('| what | ops/s | p50 ms | p99 ms | client CPU µs/op |')
  console.log('| --- | ---: | ---: | ---: | ---: |')
  for (const [name, runs] of Object.entries(rounds)) {
    const of = (pick: (r: (typeof runs)[number]) => number) => median(runs.map(pick))
    console.log(
      `| ${name} | ${of((r) => r.opsPerSec).toFixed(0)} | ${of((r) => r.p50).toFixed(2)} | ${of((r) => r.p99).toFixed(2)} | ${of((r) => r.cpuUs).toFixed(0)} |`,
    )
  }
  await Promise.all([owner.$disconnect(), app.$disconnect(), appSeparate.$disconnect()])
} finally {
  await server.stop()
}
