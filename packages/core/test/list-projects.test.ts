import {
  createDatabaseClient,
  Prisma,
  type PrismaClient,
  type ProjectStatus,
  readWithTenant,
  type TenantContext,
} from '@repo/db'
import { createTestDatabase, type TestDatabase } from '@repo/testing'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { CoreDeps } from '../src/context.ts'
import { type ListProjectsInput, likeLiteral, listProjects } from '../src/list-projects.ts'
import { pageQuery, pageSql, sortOrder, toPage } from '../src/pagination.ts'
import { PROJECT_SORTS, projectView } from '../src/project-fields.ts'
import { testDatabaseConfig } from './database-config.ts'

// listProjects reads its page with SQL of its own (readSqlWithTenant, ADR 048). The
// specification is the Prisma form of the same query, as every other list reads:
// `findMany` with pageQuery's keyset filter. Both walk every page of every sort, filter
// and search here, cursor by cursor, and must answer the same rows (every field; the
// Prisma form's through projectView, as the route answered them, timestamps compared to
// the character with the strings the SQL writes), in the same order, with the same
// cursors. (Sessions are in UTC, ADR 042, so a missing AT TIME ZONE would not show here.)

const PROJECTS = 60
let database: TestDatabase
let owner: PrismaClient
let app: PrismaClient
let deps: CoreDeps
let actor: TenantContext
/** Every statement `app` sends. */
const sent: string[] = []

/** The Prisma form: what listProjects answered before ADR 048, kept as the oracle. */
async function listWithPrisma(input: ListProjectsInput) {
  const order = sortOrder(input.sort, PROJECT_SORTS)
  const query = pageQuery(input, order)
  const rows = await readWithTenant(app, actor, (db) =>
    db.project.findMany({
      ...query,
      where: {
        ...(input.status ? { status: input.status } : {}),
        ...(input.search
          ? { name: { contains: likeLiteral(input.search), mode: 'insensitive' } }
          : {}),
        ...query.where,
      },
    }),
  )
  const page = toPage(rows, input, order)
  return { data: page.data.map(projectView), nextCursor: page.nextCursor }
}

beforeAll(async () => {
  database = await createTestDatabase()
  owner = createDatabaseClient(testDatabaseConfig(database.url))
  app = createDatabaseClient(testDatabaseConfig(database.appUrl), (sql) => sent.push(sql))
  deps = { db: app } satisfies Pick<CoreDeps, 'db'> as CoreDeps
  const [org, other] = await owner.organization.createManyAndReturn({
    data: [{ name: 'Listed' }, { name: 'Other' }],
  })
  actor = { organizationId: org?.id as string }
  // Three projects share each creation time, with milliseconds (the id breaks the tie; a
  // cursor that dropped the milliseconds would skip or repeat rows), names repeat but for
  // a suffix, in both cases, with LIKE's wildcards, quotes and non-ASCII letters; a third
  // are archived. Another organization's projects have the same names and times, for
  // row-level security to hide.
  const names = [
    'Alpha',
    'alpha beta',
    '100% done',
    'under_score',
    'back\\slash',
    "O'Brien; DROP TABLE projects; --",
    'Ölkännchen',
    'ZEPHYR',
    'zephyr',
    'Mid Project',
  ]
  await owner.$executeRaw`
    INSERT INTO projects (id, organization_id, name, description, status, version, created_at, updated_at)
    SELECT gen_random_uuid(), o.id, (${names}::text[])[1 + i % ${names.length}::int] || ' ' || i,
      'About ' || i, CASE WHEN i % 3 = 0 THEN 'archived' ELSE 'active' END::project_status,
      1 + i % 4, timestamptz '2026-01-01' + (i / 3) * interval '1.001 second',
      timestamptz '2026-02-01' + i * interval '1 millisecond'
    FROM (VALUES (${org?.id}::uuid), (${other?.id}::uuid)) AS o(id), generate_series(1, ${PROJECTS}::int) AS i`
})

afterAll(async () => {
  await Promise.all([owner?.$disconnect(), app?.$disconnect()])
  await database?.drop()
})

const sorts = Object.keys(PROJECT_SORTS).flatMap((field) => [field, `-${field}`])
const statuses: Array<ProjectStatus | undefined> = [undefined, 'active', 'archived']
const searches = [undefined, 'alpha', 'ZEPH', '%', '_', '\\', "'; DROP", 'ölk', 'nothing like it']

describe('listProjects answers what the Prisma form of its query answers', () => {
  it.each(sorts)('every page, sorted by %s, under every filter and search', async (sort) => {
    let pages = 0
    for (const status of statuses)
      for (const search of searches) {
        const filters = { status, search, sort, limit: 7 }
        let cursor: string | undefined
        const seen: string[] = []
        do {
          const input = { ...filters, ...(cursor ? { cursor } : {}) }
          const [sql, prisma] = await Promise.all([
            listProjects(deps, actor, input),
            listWithPrisma(input),
          ])
          expect(sql, JSON.stringify(input)).toEqual(prisma)
          seen.push(...sql.data.map((p) => p.id))
          cursor = sql.nextCursor ?? undefined
          pages++
        } while (cursor)
        // Every matching project once: no row skipped or repeated between pages.
        const all = await listWithPrisma({ ...filters, limit: PROJECTS })
        expect(new Set(seen).size).toBe(seen.length)
        expect(seen.sort()).toEqual(all.data.map((p) => p.id).sort())
      }
    expect(pages).toBeGreaterThan(statuses.length * searches.length)
  })

  it("answers projectView's fields, timestamps as toISOString writes them, and only its own organization", async () => {
    const page = await listProjects(deps, actor, { sort: '-createdAt', limit: 100 })
    expect(page.data).toHaveLength(PROJECTS)
    expect(page.nextCursor).toBeNull()
    const own = await owner.project.findMany({ where: { organizationId: actor.organizationId } })
    const views = new Map(own.map((p) => [p.id, projectView(p)]))
    for (const project of page.data) expect(project).toStrictEqual(views.get(project.id))
    const [first] = page.data
    expect(first?.createdAt).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/)
    expect(typeof first?.version).toBe('number')
  })

  it('refuses a forged or foreign cursor as the Prisma form does: a 400, nothing sent', async () => {
    const other = await listProjects(deps, actor, { sort: 'name', limit: 1 })
    const forged = [
      'not-base64-json',
      Buffer.from(JSON.stringify(['-createdAt', 'yesterday', 'x'])).toString('base64url'),
      Buffer.from(
        JSON.stringify(['-createdAt', '0000-01-01T00:00:00Z', crypto.randomUUID()]),
      ).toString('base64url'),
      other.nextCursor as string,
    ]
    for (const cursor of forged) {
      const input = { sort: '-createdAt', limit: 5, cursor }
      sent.length = 0
      await expect(listProjects(deps, actor, input)).rejects.toMatchObject({
        status: 400,
        code: 'invalid_cursor',
      })
      expect(sent).toEqual([])
      await expect(listWithPrisma(input)).rejects.toMatchObject({ code: 'invalid_cursor' })
    }
  })
})

describe('pageSql', () => {
  it('refuses an order it has no SQL form for (nullable or enum), instead of paging it wrongly', () => {
    const column = Prisma.raw('x')
    const page = { limit: 10 }
    expect(() =>
      pageSql(page, { field: 'dueAt', direction: 'asc', kind: 'date', nullable: true }, column),
    ).toThrow(/nullable or enum/)
    expect(() =>
      pageSql(page, { field: 'status', direction: 'desc', kind: 'enum', values: ['a'] }, column),
    ).toThrow(/nullable or enum/)
    expect(pageSql(page, { field: 'name', direction: 'asc', kind: 'string' }, column).limit).toBe(
      11,
    )
  })
})
