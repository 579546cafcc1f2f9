import { createDatabaseClient, type PrismaClient, readWithTenant, withTenant } from '@repo/db'
import { createTestDatabase, type TestDatabase } from '@repo/testing'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { CoreDeps } from '../src/context.ts'
import { listProjects } from '../src/list-projects.ts'
import { encodeCursor, pageQuery, sortOrder } from '../src/pagination.ts'
import { PROJECT_SORTS } from '../src/project-fields.ts'
import { testDatabaseConfig } from './database-config.ts'

// Keyset pagination: a page deep in a long list costs what the first page does. The
// statement of a page in the middle, as listProjects sends it (its own SQL, pageSql) and
// as the Prisma form every other list uses sends it (pageQuery), is run under EXPLAIN
// ANALYZE, as the application's login (row-level security applies), and the rows its
// scans read are counted: whatever plan Postgres picks, it must not read the rows before
// the cursor.
// docs/benchmarks.md ("Project list query plans") has the plans at 500,000 projects.

const PROJECTS = 20_000
const LIMIT = 50
let database: TestDatabase
let owner: PrismaClient
let app: PrismaClient
let statements: Array<{ sql: string; params: unknown[] }> = []
let organizationId: string

beforeAll(async () => {
  database = await createTestDatabase()
  owner = createDatabaseClient(testDatabaseConfig(database.url))
  // The client reports each statement it sends with its parameters (onQuery), those of
  // readSqlWithTenant included.
  app = createDatabaseClient(testDatabaseConfig(database.appUrl), (sql, params) => {
    statements.push({ sql, params: [...params] })
  })
  const [org, other] = await owner.organization.createManyAndReturn({
    data: [{ name: 'Large' }, { name: 'Other' }],
  })
  organizationId = org?.id as string
  // Four projects share each creation time, so a cursor lands among equal values and the
  // id breaks the tie; another organization's rows are there for row-level security to hide.
  await owner.$executeRaw`
    INSERT INTO projects (id, organization_id, name, created_at, updated_at)
    SELECT gen_random_uuid(), o.id, 'Project ' || i,
      timestamptz '2026-01-01' + (i / 4) * interval '1 minute', now()
    FROM (VALUES (${organizationId}::uuid, ${PROJECTS}::int), (${other?.id}::uuid, 2000)) AS o(id, n),
      generate_series(1, o.n) AS i`
  // What autovacuum does for a table this size; the planner needs its statistics.
  await owner.$executeRawUnsafe('VACUUM (ANALYZE) projects')
})

afterAll(async () => {
  await Promise.all([owner?.$disconnect(), app?.$disconnect()])
  await database?.drop()
})

interface PlanNode {
  'Node Type': string
  'Relation Name'?: string
  'Actual Rows'?: number
  'Actual Loops'?: number
  'Rows Removed by Filter'?: number
  'Rows Removed by Index Recheck'?: number
  Plans?: PlanNode[]
}

/** The plan's scans of projects, outermost first. */
const scans = (node: PlanNode): PlanNode[] => [
  ...(node['Relation Name'] === 'projects' ? [node] : []),
  ...(node.Plans ?? []).flatMap(scans),
]

/** Rows a scan read: those it handed up and those its filters dropped. */
const rowsRead = (scan: PlanNode) =>
  (scan['Actual Rows'] ?? 0) * (scan['Actual Loops'] ?? 1) +
  (scan['Rows Removed by Filter'] ?? 0) +
  (scan['Rows Removed by Index Recheck'] ?? 0)

/** The page after `cursor`: the list's own SQL, or the Prisma form every other list uses. */
const FORMS = {
  'listProjects (its own SQL, pageSql)': (input: { sort: string; cursor: string }) =>
    listProjects({ db: app } satisfies Pick<CoreDeps, 'db'> as CoreDeps, actor(), {
      limit: LIMIT,
      ...input,
    }).then((page) => page.data),
  'findMany with pageQuery (every other list)': (input: { sort: string; cursor: string }) => {
    const query = pageQuery({ limit: LIMIT, ...input }, sortOrder(input.sort, PROJECT_SORTS))
    return readWithTenant(app, actor(), (db) => db.project.findMany(query)).then((rows) =>
      rows.slice(0, LIMIT),
    )
  },
}
const actor = () => ({ organizationId })

describe('a page in the middle of 20,000 projects', () => {
  const sorts = Object.keys(PROJECT_SORTS).flatMap((field) => [field, `-${field}`])
  const cases = Object.keys(FORMS).flatMap((form) => sorts.map((sort) => [form, sort] as const))

  it.each(cases)('%s reads about one page of rows, sorted by %s', async (form, sort) => {
    const order = sortOrder(sort, PROJECT_SORTS)
    const orderBy = [{ [order.field]: order.direction }, { id: order.direction }]
    const middle = PROJECTS / 2
    const [cursorRow, ...expected] = await owner.project.findMany({
      where: { organizationId },
      orderBy,
      skip: middle - 1,
      take: LIMIT + 1,
    })
    if (!cursorRow) throw new Error('no cursor row')

    statements = []
    const page = await FORMS[form as keyof typeof FORMS]({
      sort,
      cursor: encodeCursor(cursorRow, order),
    })
    expect(page.map((p) => p.id)).toEqual(expected.map((p) => p.id))
    const listed = statements.filter((s) => /\bFROM (?:"public"\.)?"?projects"?\s/.test(s.sql))
    expect(listed).toHaveLength(1)
    const [{ sql, params }] = listed as [(typeof listed)[number]]

    const [row] = await withTenant(app, actor(), (tx) =>
      tx.$queryRawUnsafe<[{ 'QUERY PLAN': [{ Plan: PlanNode }] | string }]>(
        `EXPLAIN (ANALYZE, FORMAT JSON) ${sql}`,
        ...params,
      ),
    )
    const explained = row?.['QUERY PLAN']
    const [{ Plan: plan }] = typeof explained === 'string' ? JSON.parse(explained) : explained
    // The page and the row telling whether another follows, plus the few rows sharing the
    // cursor's value; reading the 10,000 rows before the cursor is what this refuses.
    const read = scans(plan)
    const total = read.reduce((sum, scan) => sum + rowsRead(scan), 0)
    const shown = read.map(({ Plans: _, ...scan }) => scan)
    expect(total, JSON.stringify(shown, null, 2)).toBeLessThan(2 * (LIMIT + 1))
  })
})
