import { spawn } from 'node:child_process'
import { Writable } from 'node:stream'
import { fileURLToPath } from 'node:url'
import { createDatabaseClient } from '@repo/db'
import { createLogger } from '@repo/observability'
import pg from 'pg'

/** Runs one statement with a test database's owner (superuser) URL, for set-up and checks. */
export async function ownerQuery(url: string, query: string, values: unknown[] = []) {
  const client = new pg.Client({ connectionString: url })
  await client.connect()
  try {
    return (await client.query(query, values)).rows
  } finally {
    await client.end()
  }
}

/**
 * An organization named `name` with an owner, an admin and a member (verified emails),
 * written with the owner's login; `actor` acts as its owner.
 */
export async function seedOrganization(url: string, name: string) {
  const [org] = await ownerQuery(
    url,
    `INSERT INTO organizations (id, name, updated_at) VALUES (gen_random_uuid(), $1, now()) RETURNING id`,
    [name],
  )
  const people: Record<string, string> = {}
  for (const role of ['owner', 'admin', 'member'] as const) {
    const email = `${role}-${crypto.randomUUID()}@example.com`
    const [user] = await ownerQuery(
      url,
      `INSERT INTO users (id, email, name, email_verified_at, updated_at)
       VALUES (gen_random_uuid(), $1, $2, now(), now()) RETURNING id`,
      [email, `${role} of ${name}`],
    )
    await ownerQuery(
      url,
      `INSERT INTO memberships (id, organization_id, user_id, role, updated_at)
       VALUES (gen_random_uuid(), $1, $2, $3::membership_role, now())`,
      [org.id, user.id, role],
    )
    people[role] = user.id
    people[`${role}Email`] = email
  }
  const actor = {
    organizationId: org.id as string,
    userId: people.owner as string,
    role: 'owner' as const,
  }
  return { orgId: org.id as string, actor, people }
}

/** A small Prisma client for a test database login (the worker's, or the API's). */
export const testDatabaseClient = (url: string) =>
  createDatabaseClient({
    DATABASE_URL: url,
    DATABASE_POOL_MAX: 4,
    DATABASE_CONNECT_TIMEOUT_MS: 2_000,
    DATABASE_STATEMENT_TIMEOUT_MS: 5_000,
  })

/** A real JSON logger at info level whose lines land in `lines`, for asserting on logs. */
export function capturingLogger() {
  const lines: Array<Record<string, unknown>> = []
  const logger = createLogger({
    service: 'worker-test',
    level: 'info',
    pretty: false,
    destination: new Writable({
      write(chunk, _encoding, done) {
        for (const line of String(chunk).split('\n').filter(Boolean)) lines.push(JSON.parse(line))
        done()
      },
    }),
  })
  return { logger, lines }
}

/**
 * The worker's real entry point in a process of its own (`node src/main.ts`), with only
 * the given environment (plus PATH): what it prints, and how it ends.
 */
export function startWorkerProcess(env: NodeJS.ProcessEnv, nodeArgs: string[] = []) {
  const child = spawn(process.execPath, [...nodeArgs, 'src/main.ts'], {
    cwd: fileURLToPath(new URL('..', import.meta.url)),
    env: { PATH: process.env.PATH, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let output = ''
  child.stdout?.on('data', (chunk) => (output += chunk))
  child.stderr?.on('data', (chunk) => (output += chunk))
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve))
  return { child, exited, output: () => output }
}
