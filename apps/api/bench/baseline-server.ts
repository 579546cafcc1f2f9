// The baseline of `pnpm bench:api`: the least a server can do for the same page. A bare
// Fastify instance (no plugins, no auth, no rate limits, no schemas) with one route that
// runs the SQL the real list route ends up running, through a plain `pg` pool, and answers
// the same JSON; and a bare INSERT for the write row. Started by api.ts in a child
// process; reports its port over IPC.
import Fastify from 'fastify'
import pg from 'pg'

const url = process.env.DATABASE_URL
if (!url) throw new Error('DATABASE_URL is required')
const pool = new pg.Pool({
  connectionString: url,
  max: Number(process.env.DATABASE_POOL_MAX ?? 10),
  // The same connection settings the app's pool has; they cost nothing per query.
  statement_timeout: 10_000,
  idle_in_transaction_session_timeout: 20_000,
})

interface ProjectRow {
  id: string
  organization_id: string
  name: string
  description: string
  status: string
  version: number
  created_at: Date
  updated_at: Date
}

const LIMIT = 50
// What listProjects asks for the first page: one row more than the page, to know if more follow.
const SQL = `SELECT id, organization_id, name, description, status, version, created_at, updated_at
  FROM projects WHERE organization_id = $1
  ORDER BY created_at DESC, id DESC LIMIT ${LIMIT + 1}`

/** A project as the app answers it. */
const toProject = (p: ProjectRow) => ({
  id: p.id,
  name: p.name,
  description: p.description,
  status: p.status,
  version: p.version,
  createdAt: p.created_at.toISOString(),
  updatedAt: p.updated_at.toISOString(),
})

const server = Fastify({ logger: false })
server.get<{ Params: { orgId: string } }>('/baseline/:orgId/projects', async (request) => {
  const { rows } = await pool.query<ProjectRow>(SQL, [request.params.orgId])
  const data = rows.slice(0, LIMIT).map(toProject)
  const last = data.at(-1)
  // The same opaque cursor as the app's (packages/core/src/pagination.ts).
  const nextCursor =
    rows.length > LIMIT && last
      ? Buffer.from(JSON.stringify(['-createdAt', last.createdAt, last.id])).toString('base64url')
      : null
  return { data, nextCursor }
})

// The write baseline: the project row the real create route inserts, and nothing else (no
// transaction, quota, audit, webhook event or Idempotency-Key), answered as it answers.
const INSERT = `INSERT INTO projects (id, organization_id, name, updated_at)
  VALUES (gen_random_uuid(), $1, $2, now())
  RETURNING id, organization_id, name, description, status, version, created_at, updated_at`
server.post<{ Params: { orgId: string }; Body: { name: string } }>(
  '/baseline/:orgId/projects',
  async (request, reply) => {
    const { rows } = await pool.query<ProjectRow>(INSERT, [request.params.orgId, request.body.name])
    return reply.code(201).send(toProject(rows[0] as ProjectRow))
  },
)

process.once('SIGTERM', async () => {
  await server.close()
  await pool.end()
  process.exit(0)
})

await server.listen({ host: '127.0.0.1', port: 0 })
const address = server.server.address()
process.send?.({ port: typeof address === 'object' && address ? address.port : 0 })
