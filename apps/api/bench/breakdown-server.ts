// `BENCH_BREAKDOWN=1 pnpm bench:api`: where the real list route's time goes. The real app
// (buildServer, every plugin), from the same env as src/server.ts, plus routes that each
// add one layer of the real route's work on top of the previous one, and three beside
// that chain (2-prisma-raw, 3-tenant-findmany, 3-tenant-raw: the read through Prisma),
// all answering the same page. Measured one after the other by api.ts; never served outside the benchmark.
import { loadEnvOrExit } from '@repo/config'
import { listProjects } from '@repo/core'
import { createDatabaseClient, readWithTenant, withTenant } from '@repo/db'
import pg from 'pg'
import { buildServer } from '../src/build-server.ts'
import { apiEnvSchema } from '../src/env.ts'
import type { RouteLimits } from '../src/plugins/app/rate-limit.ts'

const env = loadEnvOrExit(apiEnvSchema)
const ownerUrl = process.env.OWNER_DATABASE_URL
if (!ownerUrl) throw new Error('OWNER_DATABASE_URL is required')
const server = await buildServer(env)
// The owner login, which row-level security does not restrict: queries without a tenant.
const pool = new pg.Pool({ connectionString: ownerUrl, max: env.DATABASE_POOL_MAX })
const owner = createDatabaseClient({ ...env, DATABASE_URL: ownerUrl })

/** Timestamps as strings from the SQL below (as listProjects' own), as Dates from findMany. */
interface ProjectRow {
  id: string
  name: string
  description: string
  status: string
  version: number
  createdAt: Date | string
  updatedAt: Date | string
}
const iso = (value: Date | string) => (typeof value === 'string' ? value : value.toISOString())
const toProject = (p: ProjectRow) => ({
  id: p.id,
  name: p.name,
  description: p.description,
  status: p.status,
  version: p.version,
  createdAt: iso(p.createdAt),
  updatedAt: iso(p.updatedAt),
})
/** The page as the real route answers it, cursor included (packages/core/src/pagination.ts). */
function page(rows: ProjectRow[]) {
  const data = rows.slice(0, 50).map(toProject)
  const last = data.at(-1)
  const nextCursor =
    rows.length > 50 && last
      ? Buffer.from(JSON.stringify(['-createdAt', last.createdAt, last.id])).toString('base64url')
      : null
  return { data, nextCursor }
}
// listProjects' columns: the timestamps written by Postgres as toISOString writes them.
const ISO = `'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'`
const SQL = `SELECT id, name, description, status, version,
  to_char(created_at AT TIME ZONE 'UTC', ${ISO}) AS "createdAt",
  to_char(updated_at AT TIME ZONE 'UTC', ${ISO}) AS "updatedAt"
  FROM projects WHERE organization_id = $1 ORDER BY created_at DESC, id DESC LIMIT 51`
const tenantList = (organizationId: string) =>
  listProjects(server.deps, { organizationId }, { limit: 50, sort: '-createdAt' })
const noLimits: RouteLimits = { ip: false, user: false, organization: false }
type Params = { Params: { orgId: string } }
// Routes open to anyone, or to any signed-in user, may not name :orgId (the access plugin
// requires an organization role there): they take the organization as :tenant.
type Open = { Params: { tenant: string } }

server.get<Open>(
  '/bench/1-app-pg/:tenant',
  { config: { access: 'public', limits: noLimits } },
  async (request) => page((await pool.query<ProjectRow>(SQL, [request.params.tenant])).rows),
)
server.get<Open>(
  '/bench/2-prisma/:tenant',
  { config: { access: 'public', limits: noLimits } },
  async (request) =>
    page(
      await owner.project.findMany({
        where: { organizationId: request.params.tenant },
        orderBy: [{ createdAt: 'desc' }, { id: 'desc' }],
        take: 51,
      }),
    ),
)
// Prisma's runtime without its query compiler: the same SQL as 1, through $queryRawUnsafe.
server.get<Open>(
  '/bench/2-prisma-raw/:tenant',
  { config: { access: 'public', limits: noLimits } },
  async (request) => page(await owner.$queryRawUnsafe<ProjectRow[]>(SQL, request.params.tenant)),
)
// Beside listProjects' read, not the route: the same one-round-trip read with findMany
// through readWithTenant, as the list read from ADR 043 to ADR 048, then with the SQL of 1
// through Prisma's $queryRawUnsafe. What Prisma's query layer costs on this path; the
// route's own read (listProjects, readSqlWithTenant) sends its SQL through the pool. ADR 043
// says to use only the reader inside the callback; the $queryRawUnsafe row deliberately
// does not.
server.get<Open>(
  '/bench/3-tenant-findmany/:tenant',
  { config: { access: 'public', limits: noLimits } },
  async (request) =>
    page(
      await readWithTenant(server.deps.db, { organizationId: request.params.tenant }, (db) =>
        db.project.findMany({ orderBy: [{ createdAt: 'desc' }, { id: 'desc' }], take: 51 }),
      ),
    ),
)
server.get<Open>(
  '/bench/3-tenant-raw/:tenant',
  { config: { access: 'public', limits: noLimits } },
  async (request) =>
    page(
      await readWithTenant(server.deps.db, { organizationId: request.params.tenant }, () =>
        server.deps.db.$queryRawUnsafe<ProjectRow[]>(SQL, request.params.tenant),
      ),
    ),
)
// The list as it was read before ADR 043: the same query in a withTenant transaction.
server.get<Open>(
  '/bench/3-transaction/:tenant',
  { config: { access: 'public', limits: noLimits } },
  async (request) =>
    page(
      await withTenant(server.deps.db, { organizationId: request.params.tenant }, (tx) =>
        tx.project.findMany({ orderBy: [{ createdAt: 'desc' }, { id: 'desc' }], take: 51 }),
      ),
    ),
)
server.get<Open>(
  '/bench/3-tenant/:tenant',
  { config: { access: 'public', limits: noLimits } },
  (request) => tenantList(request.params.tenant),
)
server.get<Open>(
  '/bench/4-ip-limit/:tenant',
  { config: { access: 'public', limits: { user: false, organization: false } } },
  (request) => tenantList(request.params.tenant),
)
server.get<Open>(
  '/bench/5-session/:tenant',
  { config: { access: 'authenticated', limits: { user: false, organization: false } } },
  (request) => tenantList(request.params.tenant),
)
server.get<Params>(
  '/bench/6-membership/:orgId',
  {
    config: {
      access: { organizationRole: 'member' },
      limits: { user: false, organization: false },
    },
  },
  (request) => tenantList(request.params.orgId),
)
server.get<Params>(
  '/bench/7-all-limits/:orgId',
  { config: { access: { organizationRole: 'member' } } },
  (request) => tenantList(request.params.orgId),
)

server.addHook('onClose', async () => {
  await Promise.all([pool.end(), owner.$disconnect()])
})
process.once('SIGTERM', async () => {
  await server.close()
  process.exit(0)
})
await server.listen({ host: env.API_HOST, port: env.API_PORT })
