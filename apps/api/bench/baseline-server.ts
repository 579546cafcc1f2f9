// The baseline of `pnpm bench:api`: the least a server can do for the same page. A bare
// Fastify instance (no plugins, no auth, no rate limits, no schemas) with one route that
// runs the SQL the real list route ends up running, through a plain `pg` pool, and answers
// the same JSON; and a bare INSERT for the write row. Started by api.ts in a child
// process; reports its port over IPC.
import { createHash } from 'node:crypto'
import Fastify from 'fastify'
import pg from 'pg'

const url = process.env.DATABASE_URL
if (!url) throw new Error('DATABASE_URL is required')
/** The write floor's project quota, the API's in the same run (api.ts). */
const quota = Number(process.env.QUOTA_PROJECTS_PER_ORGANIZATION ?? 1_000)
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
  /** Strings where the SQL writes them (the second list route). */
  created_at: Date | string
  updated_at: Date | string
}

const LIMIT = 50
// What listProjects asks for the first page: one row more than the page, to know if more follow.
const SQL = `SELECT id, organization_id, name, description, status, version, created_at, updated_at
  FROM projects WHERE organization_id = $1
  ORDER BY created_at DESC, id DESC LIMIT ${LIMIT + 1}`
// The same, with the timestamps written by Postgres as toISOString writes them, as the real
// route's SQL does (ADR 048): the baseline given the real route's one trick. (The ORDER BY
// names the table's column: bare, `created_at` would be the text column of the output.)
const ISO = `'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'`
const SQL_TEXT_DATES = `SELECT id, organization_id, name, description, status, version,
  to_char(created_at AT TIME ZONE 'UTC', ${ISO}) AS created_at,
  to_char(updated_at AT TIME ZONE 'UTC', ${ISO}) AS updated_at
  FROM projects WHERE organization_id = $1
  ORDER BY projects.created_at DESC, id DESC LIMIT ${LIMIT + 1}`
const iso = (value: Date | string) => (typeof value === 'string' ? value : value.toISOString())

/** A project as the app answers it. */
const toProject = (p: ProjectRow) => ({
  id: p.id,
  name: p.name,
  description: p.description,
  status: p.status,
  version: p.version,
  createdAt: iso(p.created_at),
  updatedAt: iso(p.updated_at),
})

/** The page as the app answers it, with the same opaque cursor (packages/core/src/pagination.ts). */
function page(rows: ProjectRow[]) {
  const data = rows.slice(0, LIMIT).map(toProject)
  const last = data.at(-1)
  const nextCursor =
    rows.length > LIMIT && last
      ? Buffer.from(JSON.stringify(['-createdAt', last.createdAt, last.id])).toString('base64url')
      : null
  return { data, nextCursor }
}

const server = Fastify({ logger: false })
server.get<{ Params: { orgId: string } }>('/baseline/:orgId/projects', async (request) =>
  page((await pool.query<ProjectRow>(SQL, [request.params.orgId])).rows),
)
server.get<{ Params: { orgId: string } }>('/baseline/:orgId/projects-text-dates', async (request) =>
  page((await pool.query<ProjectRow>(SQL_TEXT_DATES, [request.params.orgId])).rows),
)

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

// The write floor: everything a keyed, quota-checked create asks of the database, as one
// statement in one implicit transaction, through the same bare server (no auth, no limits,
// no validation, no encryption of the stored answer, owner login so no row-level security,
// no advisory lock answering a concurrent duplicate at once). It does that work in the
// route's order (ADR 045, ADR 046): the answer is made before anything is written, the
// key's row is inserted first already holding it, then the project, whose insert counts it
// in its organization's row and locks that row to the commit (ADR 044), then the webhook
// endpoints are looked up and the quota read under the lock. No implementation of these
// guarantees can do less work per request, nor hold the organization's row for less of
// it, so it bounds what any of them could reach on this machine (docs/benchmarks.md). The
// function is the bench's own, made here, not a migration.
await pool.query(`
  CREATE OR REPLACE FUNCTION bench_keyed_create(
    org uuid, project_name text, scope bpchar, request bpchar, quota integer
  )
    RETURNS TABLE (replayed boolean, body text) LANGUAGE plpgsql VOLATILE AS $$
  DECLARE
    project_id uuid := gen_random_uuid();
    made timestamptz := now();
    answer text;
    total integer;
  BEGIN
    answer := json_build_object('id', project_id, 'name', project_name, 'description', '',
      'status', 'active', 'version', 1, 'createdAt', made, 'updatedAt', made)::text;
    INSERT INTO idempotency_keys (id, organization_id, scope_hash, request_hash, locked_until,
      expires_at, response_status, response_body, effect_committed_at)
    VALUES (gen_random_uuid(), org, scope, request, made + interval '1 minute',
      made + interval '1 day', 201, convert_to(answer, 'UTF8'), made)
    ON CONFLICT (scope_hash) DO NOTHING;
    IF NOT FOUND THEN
      RETURN QUERY SELECT true, convert_from(k.response_body, 'UTF8')
        FROM idempotency_keys k WHERE k.scope_hash = scope;
      RETURN;
    END IF;
    INSERT INTO projects (id, organization_id, name, created_at, updated_at)
    VALUES (project_id, org, project_name, made, made);
    PERFORM 1 FROM webhook_endpoints
      WHERE organization_id = org AND disabled_at IS NULL AND events @> ARRAY['project.created']::varchar[]
      LIMIT 1;
    -- The quota as the route reads it (app_take_project_quota): the organization's row,
    -- which the insert above already locked, and its kept count, which already holds the
    -- project (ADR 044, amended).
    SELECT project_count INTO total FROM organizations WHERE id = org FOR NO KEY UPDATE;
    IF total > quota THEN RAISE EXCEPTION 'quota'; END IF;
    RETURN QUERY SELECT false, answer;
  END
  $$`)
const sha256 = (text: string) => createHash('sha256').update(text).digest('hex')
server.post<{ Params: { orgId: string }; Body: { name: string } }>(
  '/baseline/:orgId/keyed-projects',
  async (request, reply) => {
    const key = String(request.headers['idempotency-key'] ?? '')
    const { rows } = await pool.query<{ replayed: boolean; body: string }>(
      'SELECT * FROM bench_keyed_create($1, $2, $3, $4, $5)',
      [
        request.params.orgId,
        request.body.name,
        sha256(`${request.params.orgId}:${key}`),
        sha256(JSON.stringify(request.body)),
        quota,
      ],
    )
    const row = rows[0] as { replayed: boolean; body: string }
    return reply
      .code(row.replayed ? 200 : 201)
      .type('application/json')
      .send(row.body)
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
