import { parseEnv } from '@repo/config'
import { useIsolatedServices } from '@repo/testing'
import type { FastifyInstance } from 'fastify'
import pg from 'pg'
import { afterAll, beforeAll } from 'vitest'
import { buildServer } from '../src/build-server.ts'
import { type ApiEnv, apiEnvSchema } from '../src/env.ts'
import type { AccessCache } from '../src/lib/access-cache.ts'

/** A validated API env for tests: defaults plus the given overrides. */
export function testEnv(overrides: Record<string, string>): ApiEnv {
  // Generous auth limits by default: most tests sign up many users from one address.
  return parseEnv(apiEnvSchema, {
    NODE_ENV: 'test',
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent',
    AUTH_RATE_LIMIT_PER_MINUTE: '10000',
    RATE_LIMIT_IP_PER_MINUTE: '1000000',
    RATE_LIMIT_USER_PER_MINUTE: '1000000',
    RATE_LIMIT_ORG_PER_MINUTE: '1000000',
    // Parallel test files load the machine; load shedding is tested on its own.
    PRESSURE_MAX_EVENT_LOOP_DELAY_MS: '0',
    PRESSURE_MAX_EVENT_LOOP_UTILIZATION: '0',
    ...overrides,
  })
}

/** Builds the real app (all plugins and routes) against the given services, ready for inject(). */
export async function buildTestServer(
  overrides: Record<string, string>,
  /** Adds test-only routes before the server is sealed by ready(). */
  configure?: (server: FastifyInstance) => void,
): Promise<FastifyInstance> {
  const server = await buildServer(testEnv(overrides))
  configure?.(server)
  await server.ready()
  return server
}

/**
 * A test file's API server against its own database (the RLS-bound app login) and Redis
 * namespace, built before the file's tests and closed after. `server` forwards to the
 * instance once it exists, so tests call `server.inject(...)` as usual; `sql` runs a
 * statement as the owner, for setup and checks that the API does not expose, and then
 * empties the server's access cache. Overrides
 * given as a function are read when the server is built (after earlier beforeAll hooks,
 * e.g. one starting a fake provider whose address they name).
 */
export function useApiServer(
  overrides: Record<string, string> | (() => Record<string, string>) = {},
) {
  const services = useIsolatedServices()
  let instance: FastifyInstance | undefined
  beforeAll(async () => {
    const { database, redis } = services()
    instance = await buildTestServer({
      DATABASE_URL: database.appUrl,
      REDIS_URL: redis.url,
      ...(typeof overrides === 'function' ? overrides() : overrides),
    })
  })
  afterAll(() => instance?.close())
  const server = new Proxy({} as FastifyInstance, {
    get(_target, property) {
      if (!instance)
        throw new Error('the API server is built in beforeAll; use it inside tests or hooks')
      const value = Reflect.get(instance, property)
      return typeof value === 'function' ? value.bind(instance) : value
    },
  })
  // A statement behind the API's back is announced to nobody: the server forgets the
  // sessions and memberships it keeps (ADR 035), as a change made through the API does.
  const sql = async (query: string, values: unknown[] = []) => {
    const rows = await ownerQuery(services().database.url, query, values)
    if (instance) forgetAccess(instance)
    return rows
  }
  return { server, services, sql }
}

/**
 * Empties the server's cache of sessions and memberships (ADR 035), as an announced change
 * would: for a test that changed them in SQL, behind the API's back.
 */
export function forgetAccess(server: FastifyInstance): void {
  ;(server as FastifyInstance & { accessCache: AccessCache }).accessCache.clear()
}

/** Runs one statement with the owner (superuser) URL of a test database. */
export async function ownerQuery(url: string, query: string, values: unknown[] = []) {
  const client = new pg.Client({ connectionString: url })
  await client.connect()
  try {
    return (await client.query(query, values)).rows
  } finally {
    await client.end()
  }
}

/** Signs up a fresh user who owns a fresh organization; returns their bearer headers. */
export async function signUpOwner(server: FastifyInstance, organizationName = 'Acme') {
  const res = await server.inject({
    method: 'POST',
    url: '/v1/auth/sign-up',
    payload: {
      email: `owner-${crypto.randomUUID()}@example.com`,
      password: 'correct horse battery staple',
      name: 'Olive Owner',
    },
  })
  if (res.statusCode !== 201) throw new Error(`sign-up answered ${res.statusCode}: ${res.body}`)
  const headers = { authorization: `Bearer ${res.json().token}` }
  const org = await server.inject({
    method: 'POST',
    url: '/v1/orgs',
    headers,
    payload: { name: organizationName },
  })
  return { headers, orgId: org.json().id as string, userId: res.json().user.id as string }
}

/** Adds an existing-user membership directly (as the owner login), for role and assignee tests. */
export async function addMember(
  server: FastifyInstance,
  sql: (query: string, values?: unknown[]) => Promise<unknown[]>,
  orgId: string,
  role: 'member' | 'admin' = 'member',
) {
  const member = await signUpOwner(server, 'Own')
  await sql(
    `INSERT INTO memberships (id, organization_id, user_id, role, updated_at)
     VALUES (gen_random_uuid(), $1, $2, $3::membership_role, now())`,
    [orgId, member.userId, role],
  )
  return member
}
