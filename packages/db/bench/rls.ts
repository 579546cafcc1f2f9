// pnpm bench:rls — the cost of the row-level-security path (application login, tenant
// context in a transaction) against the same query without it, measured in one run.

import { randomUUID } from 'node:crypto'
import { cpus } from 'node:os'
import { loadEnvOrExit, positiveInt } from '@repo/config'
import { z } from 'zod'
import { TEMPLATE_DATABASE, TEST_APP_LOGIN } from '../../testing/src/context.ts'
import { cloneDatabase } from '../../testing/src/database.ts'
import { createTemplate } from '../../testing/src/global-setup.ts'
import { startEphemeralPostgres } from '../../testing/src/servers/index.ts'
import { createDatabaseClient, type PrismaClient, withTenant } from '../src/index.ts'

const ORGS = 20
const MEMBERS_PER_ORG = 500
const { BENCH_OPERATIONS: OPERATIONS } = loadEnvOrExit(
  z.object({ BENCH_OPERATIONS: positiveInt(3_000) }),
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
  latencies.sort((a, b) => a - b)
  const at = (q: number) => latencies[Math.floor(q * (latencies.length - 1))] ?? 0
  return { opsPerSec: OPERATIONS / seconds, p50: at(0.5), p99: at(0.99) }
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

  const results = {
    'baseline: owner login, no RLS, no transaction (1 query)': await measure(() =>
      owner.membership.findMany({ where: { organizationId: pick() }, ...list }),
    ),
    'RLS: app login, withTenant (set_config + 1 query in a transaction)': await measure(() => {
      const organizationId = pick()
      return withTenant(app, { organizationId }, (tx) =>
        tx.membership.findMany({ where: { organizationId }, ...list }),
      )
    }),
    'owner login, same transaction + set_config, no RLS (the transaction cost alone)':
      await measure(() => {
        const organizationId = pick()
        return withTenant(owner, { organizationId }, (tx) =>
          tx.membership.findMany({ where: { organizationId }, ...list }),
        )
      }),
    'RLS: app login, batch $transaction([set_config, query]) (no interactive transaction)':
      await measure(() => {
        const organizationId = pick()
        return app.$transaction([
          app.$executeRaw`SELECT set_config('app.organization_id', ${organizationId}, true)`,
          app.membership.findMany({ where: { organizationId }, ...list }),
        ])
      }),
    'baseline: 3 queries, owner login, no transaction': await measure(async () => {
      const organizationId = pick()
      for (let i = 0; i < 3; i++)
        await owner.membership.findMany({ where: { organizationId }, ...list })
    }),
    'RLS: 3 queries in one withTenant (one transaction per unit of work)': await measure(() => {
      const organizationId = pick()
      return withTenant(app, { organizationId }, async (tx) => {
        for (let i = 0; i < 3; i++)
          await tx.membership.findMany({ where: { organizationId }, ...list })
      })
    }),
    'RLS: 3 queries, a withTenant each (one transaction per query)': await measure(async () => {
      const organizationId = pick()
      for (let i = 0; i < 3; i++) {
        await withTenant(app, { organizationId }, (tx) =>
          tx.membership.findMany({ where: { organizationId }, ...list }),
        )
      }
    }),
  }
  console.log(
    `\nMachine: ${cpus().length} x ${cpus()[0]?.model}, Node ${process.version}, ${server.description}`,
  )
  console.log(
    `${ORGS} organizations x ${MEMBERS_PER_ORG} members; ${OPERATIONS} operations at concurrency ${CONCURRENCY}; list of 50 by created_at\n`,
  )
  console.log('| what | ops/s | p50 ms | p99 ms |')
  console.log('| --- | ---: | ---: | ---: |')
  for (const [name, r] of Object.entries(results)) {
    console.log(
      `| ${name} | ${r.opsPerSec.toFixed(0)} | ${r.p50.toFixed(2)} | ${r.p99.toFixed(2)} |`,
    )
  }
  await Promise.all([owner.$disconnect(), app.$disconnect()])
} finally {
  await server.stop()
}
