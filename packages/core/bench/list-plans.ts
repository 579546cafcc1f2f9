// pnpm bench:plans — the query plans of the project list (listProjects, behind
// GET /v1/orgs/:orgId/projects) when one organization holds thousands and hundreds of
// thousands of projects, beside other organizations' rows.
//
// For each size it seeds a fresh database (by SQL, as the owner), runs VACUUM (ANALYZE) as
// autovacuum would, calls the real listProjects under the application's login (row-level
// security applies), records the statement it sends and its parameters, and runs
// EXPLAIN (ANALYZE, BUFFERS) of exactly that statement in a transaction with the same
// tenant settings (withTenant). It prints each plan's key lines and a summary table
// (docs/benchmarks.md).
//
// BENCH_SIZES (default 5000,500000) sets the organization's project counts;
// BENCH_OTHER_ORGS (default 20) x BENCH_OTHER_PROJECTS (default 5000) the other
// organizations' rows; BENCH_REPEATS (default 3) how many times each EXPLAIN ANALYZE runs
// (the table shows the median execution time); BENCH_FULL_PLANS=1 prints every plan whole;
// BENCH_SETUP_SQL (statements separated by `;`) runs as the owner after seeding, before
// ANALYZE: an index to try before writing its migration.
//
// The list's statement is prepared by name on each connection (docs/decisions/049), so
// after five executions Postgres may plan it once for any parameters (a generic plan)
// instead of for each call's. Each case is also PREPAREd and run five times as the API runs
// it, and the table records which plan the sixth run got, and the generic plan's shape and
// time (plan_cache_mode = force_generic_plan): what a case would cost if Postgres chose it.

import { cpus } from 'node:os'
import { booleanFlag, loadEnvOrExit, positiveInt } from '@repo/config'
import { z } from 'zod'
import {
  createDatabaseClient,
  type PrismaClient,
  type TenantContext,
  type TenantTransaction,
  withTenant,
} from '../../db/src/index.ts'
import { TEMPLATE_DATABASE, TEST_APP_LOGIN } from '../../testing/src/context.ts'
import { cloneDatabase } from '../../testing/src/database.ts'
import { createTemplate } from '../../testing/src/global-setup.ts'
import { startEphemeralPostgres } from '../../testing/src/servers/index.ts'
import type { CoreDeps } from '../src/context.ts'
import { type ListProjectsInput, listProjects } from '../src/list-projects.ts'
import { encodeCursor, type SortOrder, sortOrder } from '../src/pagination.ts'
import { PROJECT_SORTS } from '../src/project-fields.ts'

const env = loadEnvOrExit(
  z.object({
    BENCH_SIZES: z
      .string()
      .default('5000,500000')
      .transform((value) => value.split(',').map(Number))
      .pipe(z.array(z.number().int().min(100))),
    BENCH_OTHER_ORGS: positiveInt(20),
    BENCH_OTHER_PROJECTS: positiveInt(5_000),
    BENCH_REPEATS: positiveInt(3),
    BENCH_FULL_PLANS: booleanFlag(false),
    BENCH_SETUP_SQL: z.string().default(''),
  }),
)
const LIMIT = 50
/** A word in a tenth of the names: a search that fills a page at once. */
const COMMON_TERM = 'migration'
/** A word in ten names of each organization, whatever its size: a search that finds few. */
const RARE_TERM = 'zephyr'

const config = (url: string, statementTimeoutMs: number) => ({
  DATABASE_URL: url,
  DATABASE_POOL_MAX: 2,
  DATABASE_CONNECT_TIMEOUT_MS: 5_000,
  DATABASE_STATEMENT_TIMEOUT_MS: statementTimeoutMs,
})

/**
 * Every organization's projects in one statement, inserted in creation order as production
 * inserts them (the organizations' rows interleave). A name is an area, a kind of work (one
 * in ten a migration) and a number that makes it unique; ten names in each organization
 * start with "Zephyr". 15% archived; created over three years, updated some time after;
 * ids are UUIDv7 of the creation time, as Prisma's uuid(7) default makes them.
 */
const SEED_SQL = `
INSERT INTO projects (id, organization_id, name, description, status, created_at, updated_at)
SELECT uuidv7(p.created_at - now()), p.organization_id, p.name, '', p.status, p.created_at,
  p.created_at + random() * (now() - p.created_at)
FROM (
  SELECT o.organization_id,
    CASE WHEN i % GREATEST(o.projects / 10, 1) = 0 THEN 'Zephyr ' ELSE '' END
      || (ARRAY['Website', 'Mobile app', 'Billing', 'Onboarding', 'Search', 'Checkout',
           'Analytics', 'Support portal', 'Design system', 'Data warehouse', 'Public API',
           'Partner portal', 'Marketing site', 'Admin console', 'Notifications', 'Reporting',
           'Payments', 'Inventory', 'Shipping', 'Security'])[1 + (i * 7) % 20]
      || ' '
      || (ARRAY['relaunch', 'migration', 'redesign', 'audit', 'integration', 'rollout',
           'cleanup', 'upgrade', 'pilot', 'refactor'])[1 + (i / 20) % 10]
      || ' ' || i AS name,
    CASE WHEN random() < 0.15 THEN 'archived' ELSE 'active' END::project_status AS status,
    date_trunc('milliseconds', now() - random() * interval '3 years') AS created_at
  FROM jsonb_to_recordset($1::jsonb) AS o(organization_id uuid, projects int),
    generate_series(1, o.projects) AS i
) p
ORDER BY p.created_at`

interface Captured {
  sql: string
  params: unknown[]
}

interface Case {
  name: string
  input: ListProjectsInput
}

interface Result {
  case: string
  size: number
  shape: string
  rowsRead: number
  buffers: string
  ms: number
  genericShape: string
  genericMs: number
  sixthRun: 'generic' | 'custom'
}

const median = (values: number[]) =>
  [...values].sort((a, b) => a - b)[Math.floor((values.length - 1) / 2)] ?? 0

/** The plan's nodes, outermost first: `Limit`, `Index Scan Backward using x on projects`... */
const planNodes = (plan: string[]) =>
  plan
    .filter((line, i) => i === 0 || line.trimStart().startsWith('->'))
    .map((line) => line.replace(/^\s*(->\s*)?/, '').replace(/\s+\(cost=.*$/, ''))

/** Plan shape for the table: the nodes that decide the cost, outermost first. */
function shapeOf(plan: string[]): string {
  const nodes = planNodes(plan)
    .filter((node) => !/^(Limit|Result|InitPlan)/.test(node))
    .map((node) => node.replace(/ on projects$/, ''))
  return nodes.join(' → ')
}

/** Rows the scans handed up plus those their filters threw away: the work done. */
function rowsReadOf(plan: string[]): number {
  let total = 0
  plan.forEach((line, i) => {
    // Table scans only: a bitmap heap scan's index scans hand up row ids, not rows.
    if (!/Scan\b.* on projects\s+\(/.test(line)) return
    const actual = /actual time=[\d.]+\.\.[\d.]+ rows=([\d.]+) loops=(\d+)/.exec(line)
    if (actual) total += Number(actual[1]) * Number(actual[2])
    for (const next of plan.slice(i + 1)) {
      if (next.trimStart().startsWith('->')) break
      const removed = /Rows Removed by (?:Filter|Index Recheck): (\d+)/.exec(next)
      if (removed) total += Number(removed[1])
    }
  })
  return Math.round(total)
}

const KEY_LINE =
  /->|Limit|InitPlan|Index Cond|Recheck Cond|Filter|Rows Removed|Sort Key|Presorted Key|Sort Method|Buffers|Heap Blocks|Planning Time|Execution Time/

/** A parameter as an SQL literal, for EXECUTE (strings and numbers are all the list binds). */
const literal = (value: unknown) =>
  value === null
    ? 'NULL'
    : typeof value === 'number'
      ? String(value)
      : `'${String(value).replaceAll("'", "''")}'`
let prepares = 0

const server = await startEphemeralPostgres('local')
try {
  await createTemplate(server.url)
  const results: Result[] = []
  for (const size of env.BENCH_SIZES) {
    const database = await cloneDatabase(server.url, TEMPLATE_DATABASE)
    const appUrl = database.url.replace(
      /\/\/[^@]+@/,
      `//${TEST_APP_LOGIN.user}:${TEST_APP_LOGIN.password}@`,
    )
    const owner: PrismaClient = createDatabaseClient(config(database.url, 600_000))
    // The client reports each statement with its parameters, listProjects' own SQL
    // (readSqlWithTenant, ADR 048) included.
    let capture: Captured[] | undefined
    const app = createDatabaseClient(config(appUrl, 60_000), (sql, params) => {
      capture?.push({ sql, params: [...params] })
    })
    try {
      results.push(...(await measureSize(owner, app, size, (next) => (capture = next))))
    } finally {
      await Promise.all([owner.$disconnect(), app.$disconnect()])
      await database.drop()
    }
  }

  console.log(
    `\nMachine: ${cpus().length} x ${cpus()[0]?.model}, Node ${process.version}, ${server.description}`,
  )
  console.log(
    `One organization of each size beside ${env.BENCH_OTHER_ORGS} x ${env.BENCH_OTHER_PROJECTS} other projects; limit ${LIMIT}; median of ${env.BENCH_REPEATS} EXPLAIN ANALYZE runs, warm cache\n`,
  )
  console.log(
    '| case | projects | plan shape | rows read | buffers | ms | sixth run | generic plan | generic ms |',
  )
  console.log('| --- | ---: | --- | ---: | --- | ---: | --- | --- | ---: |')
  for (const r of results) {
    console.log(
      `| ${r.case} | ${r.size.toLocaleString('en-US')} | ${r.shape} | ${r.rowsRead.toLocaleString('en-US')} | ${r.buffers} | ${r.ms.toFixed(2)} | ${r.sixthRun} | ${r.genericShape === r.shape ? 'same' : r.genericShape} | ${r.genericMs.toFixed(2)} |`,
    )
  }
} finally {
  await server.stop()
}

async function measureSize(
  owner: PrismaClient,
  app: PrismaClient,
  size: number,
  setCapture: (capture: Captured[] | undefined) => void,
): Promise<Result[]> {
  const orgs = await owner.organization.createManyAndReturn({
    data: Array.from({ length: env.BENCH_OTHER_ORGS + 1 }, (_, i) => ({ name: `Org ${i}` })),
    select: { id: true },
  })
  const target = orgs[0]?.id as string
  const user = await owner.user.create({
    data: { email: 'owner@bench.test', name: 'Owner' },
    select: { id: true },
  })
  await owner.membership.create({
    data: { organizationId: target, userId: user.id, role: 'owner' },
  })
  const started = performance.now()
  const counts = orgs.map((org, i) => ({
    organization_id: org.id,
    projects: i === 0 ? size : env.BENCH_OTHER_PROJECTS,
  }))
  // One connection for the statements, so the seed fixes what random() draws. One
  // statement, as a bulk load would send it: the organizations' kept project counts (ADR
  // 044) move once per organization for the whole statement (a per-row trigger made this
  // seed's time grow with the square of the projects, and 500,000 never committed).
  await owner.$transaction(
    [
      owner.$executeRaw`SELECT setseed(0.42)`,
      owner.$executeRawUnsafe(SEED_SQL, JSON.stringify(counts)),
    ],
    { timeout: 600_000 },
  )
  const drifted = await owner.$queryRaw<Array<{ id: string }>>`
    SELECT o.id::text FROM organizations o
    WHERE o.project_count <> (SELECT count(*) FROM projects p WHERE p.organization_id = o.id)`
  if (drifted.length)
    throw new Error(
      `kept project counts differ from the rows: ${drifted.map((row) => row.id).join(', ')}`,
    )
  for (const statement of env.BENCH_SETUP_SQL.split(';').filter((s) => s.trim()))
    await owner.$executeRawUnsafe(statement)
  await owner.$executeRawUnsafe('VACUUM (ANALYZE) projects')
  console.log(
    `\n## ${size.toLocaleString('en-US')} projects (seeded with the others in ${((performance.now() - started) / 1000).toFixed(1)} s)`,
  )

  // listProjects reads only the client from its dependencies.
  const deps = { db: app } satisfies Pick<CoreDeps, 'db'> as CoreDeps
  const actor = { organizationId: target, userId: user.id }
  const middle = Math.floor(size / 2)
  /** The cursor of the page after the `position`th row (1-based) in `sort`. */
  const cursorAfter = async (sort: string, position: number) => {
    const order: SortOrder = sortOrder(sort, PROJECT_SORTS)
    const row = await owner.project.findFirst({
      where: { organizationId: target },
      orderBy: [{ [order.field]: order.direction }, { id: order.direction }],
      skip: position - 1,
      select: { id: true, name: true, createdAt: true },
    })
    if (!row) throw new Error(`no row ${position} in ${sort}`)
    return encodeCursor(row, order)
  }
  const first = (sort: string): Case => ({
    name: `first page, sort=${sort}`,
    input: { limit: LIMIT, sort },
  })
  const cases: Case[] = [
    ...Object.keys(PROJECT_SORTS).flatMap((field) => [first(`-${field}`), first(field)]),
    {
      name: `page after row ${(size - LIMIT).toLocaleString('en-US')} (the last), sort=-createdAt`,
      input: {
        limit: LIMIT,
        sort: '-createdAt',
        cursor: await cursorAfter('-createdAt', size - LIMIT),
      },
    },
    {
      name: `page after row ${middle.toLocaleString('en-US')} (the middle), sort=-createdAt`,
      input: {
        limit: LIMIT,
        sort: '-createdAt',
        cursor: await cursorAfter('-createdAt', middle),
      },
    },
    {
      name: `page after row ${middle.toLocaleString('en-US')} (the middle), sort=name`,
      input: { limit: LIMIT, sort: 'name', cursor: await cursorAfter('name', middle) },
    },
    {
      name: 'status=archived, first page',
      input: { limit: LIMIT, sort: '-createdAt', status: 'archived' },
    },
    {
      name: `search=${RARE_TERM} (10 rows), first page`,
      input: { limit: LIMIT, sort: '-createdAt', search: RARE_TERM },
    },
    {
      name: `search=${COMMON_TERM} (a tenth), first page`,
      input: { limit: LIMIT, sort: '-createdAt', search: COMMON_TERM },
    },
  ]

  const results: Result[] = []
  for (const c of cases) {
    const captured: Captured[] = []
    setCapture(captured)
    const page = await listProjects(deps, actor, c.input)
    setCapture(undefined)
    const statements = captured.filter((s) => /\bFROM\s+projects\b/.test(s.sql))
    const statement = statements[0]
    if (statements.length !== 1 || !statement)
      throw new Error(`${c.name}: expected one statement on projects, saw ${captured.length}`)

    const runs: { plan: string[]; ms: number }[] = []
    for (let i = 0; i < env.BENCH_REPEATS; i++) {
      const rows = await withTenant(app, actor, (tx) =>
        tx.$queryRawUnsafe<{ 'QUERY PLAN': string }[]>(
          `EXPLAIN (ANALYZE, BUFFERS, FORMAT TEXT) ${statement.sql}`,
          ...statement.params,
        ),
      )
      const plan = rows.map((row) => row['QUERY PLAN'])
      const ms = Number(/Execution Time: ([\d.]+) ms/.exec(plan.join('\n'))?.[1])
      runs.push({ plan, ms })
    }
    const ms = median(runs.map((run) => run.ms))
    const plan = runs.find((run) => run.ms === ms)?.plan ?? []
    const buffers = /Buffers: (shared [^\n]*)/.exec(plan.join('\n'))?.[1] ?? ''
    const prepared = await preparedPlans(app, actor, statement)
    results.push({
      case: c.name,
      size,
      shape: shapeOf(plan),
      rowsRead: rowsReadOf(plan),
      buffers: buffers.replace(/^shared /, ''),
      ms,
      genericShape: shapeOf(prepared.generic),
      genericMs: prepared.genericMs,
      sixthRun: prepared.sixthRun,
    })

    console.log(
      `\n### ${c.name} (${page.data.length} rows, next page: ${page.nextCursor ? 'yes' : 'no'})`,
    )
    console.log(`SQL: ${statement.sql}`)
    console.log(`params: ${JSON.stringify(statement.params)}`)
    const shown =
      env.BENCH_FULL_PLANS || c === cases[0] ? plan : plan.filter((l) => KEY_LINE.test(l))
    for (const line of shown) console.log(`  ${line}`)
    if (shapeOf(prepared.generic) !== shapeOf(plan)) {
      console.log('  generic plan:')
      for (const line of prepared.generic.filter((l) => KEY_LINE.test(l))) console.log(`  ${line}`)
    }
  }
  return results
}

/**
 * The statement PREPAREd as the API's named statement is (ADR 049), under the same tenant
 * settings: which plan Postgres gives its sixth execution after five, and the generic plan
 * (forced), run BENCH_REPEATS times, its median.
 */
async function preparedPlans(app: PrismaClient, actor: TenantContext, statement: Captured) {
  const args = `(${statement.params.map(literal).join(', ')})`
  const inTransaction = <T>(work: (name: string, tx: TenantTransaction) => Promise<T>) =>
    withTenant(app, actor, async (tx) => {
      const name = `bench_list_${++prepares}`
      await tx.$executeRawUnsafe(`PREPARE ${name} AS ${statement.sql}`)
      const result = await work(name, tx)
      await tx.$executeRawUnsafe(`DEALLOCATE ${name}`)
      return result
    })
  const explain = async (tx: TenantTransaction, name: string) => {
    const rows = await tx.$queryRawUnsafe<{ 'QUERY PLAN': string }[]>(
      `EXPLAIN (ANALYZE, BUFFERS, FORMAT TEXT) EXECUTE ${name}${args}`,
    )
    const plan = rows.map((row) => row['QUERY PLAN'])
    return { plan, ms: Number(/Execution Time: ([\d.]+) ms/.exec(plan.join('\n'))?.[1]) }
  }
  const sixthRun = await inTransaction(async (name, tx) => {
    for (let i = 0; i < 6; i++) await tx.$executeRawUnsafe(`EXECUTE ${name}${args}`)
    const [counts] = await tx.$queryRawUnsafe<{ generic: bigint; custom: bigint }[]>(
      `SELECT generic_plans AS generic, custom_plans AS custom FROM pg_prepared_statements WHERE name = '${name}'`,
    )
    return Number(counts?.generic) > 0 ? ('generic' as const) : ('custom' as const)
  })
  const runs: { plan: string[]; ms: number }[] = []
  for (let i = 0; i < env.BENCH_REPEATS; i++)
    runs.push(
      await inTransaction(async (name, tx) => {
        await tx.$executeRawUnsafe(`SET LOCAL plan_cache_mode = force_generic_plan`)
        return explain(tx, name)
      }),
    )
  const genericMs = median(runs.map((run) => run.ms))
  return {
    sixthRun,
    generic: runs.find((run) => run.ms === genericMs)?.plan ?? [],
    genericMs,
  }
}
