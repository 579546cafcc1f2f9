import { execFile } from 'node:child_process'
import { PassThrough, Writable } from 'node:stream'
import { fileURLToPath } from 'node:url'
import type { IsolatedServices } from '@repo/testing'
import pg from 'pg'
import { runOps as runInProcess } from '../src/program.ts'

const cli = fileURLToPath(new URL('../src/cli.ts', import.meta.url))

export interface OpsRun {
  code: number
  out: string
  err: string
}

/** The environment an operator's shell would have, pointed at this file's services. */
export function opsEnv(services: IsolatedServices, extra: Record<string, string> = {}) {
  const { database, redis } = services
  return {
    PATH: process.env.PATH ?? '',
    HOME: process.env.HOME ?? '/',
    NODE_ENV: 'test',
    DATABASE_URL: database.appUrl,
    WORKER_DATABASE_URL: database.workerUrl,
    MIGRATION_DATABASE_URL: database.url,
    REDIS_URL: redis.url,
    ...extra,
  }
}

/**
 * Runs `pnpm ops <args>` as an operator would: a child process (stdin not a terminal),
 * its exit code and both outputs.
 */
export function runOps(args: string[], env: Record<string, string>): Promise<OpsRun> {
  return new Promise((resolve) => {
    const child = execFile(
      process.execPath,
      [cli, ...args],
      { env, timeout: 30_000 },
      (error, out, err) =>
        resolve({
          code: error ? Number((error as { code?: number }).code ?? 1) : 0,
          out,
          err,
        }),
    )
    child.stdin?.end()
  })
}

/**
 * The same command in this process (no terminal, the given environment): for re-runs,
 * refusals and wrong input, where starting a process a second time proves nothing more
 * and costs a second or two on a loaded machine.
 */
export async function callOps(args: string[], env: Record<string, string>): Promise<OpsRun> {
  let out = ''
  let err = ''
  const sink = (append: (text: string) => void) =>
    new Writable({
      write(chunk, _encoding, done) {
        append(String(chunk))
        done()
      },
    })
  const stdin = Object.assign(new PassThrough(), { isTTY: false })
  const code = await runInProcess(
    args,
    { stdin, stdout: sink((t) => (out += t)), stderr: sink((t) => (err += t)) },
    env,
  )
  return { code, out, err }
}

/** Runs one statement as the owner (superuser) of the test database. */
export async function ownerQuery<T = Record<string, unknown>>(
  url: string,
  query: string,
  values: unknown[] = [],
): Promise<T[]> {
  const client = new pg.Client({ connectionString: url })
  await client.connect()
  try {
    return (await client.query(query, values)).rows as T[]
  } finally {
    await client.end()
  }
}

export interface AuditRow {
  action: string
  organization_id: string | null
  actor_user_id: string | null
  actor_operator: string | null
  target_type: string | null
  target_id: string | null
  metadata: Record<string, unknown>
}

/** The audit entries of `action`, oldest first. */
export const auditEntries = (url: string, action: string) =>
  ownerQuery<AuditRow>(
    url,
    `SELECT action, organization_id, actor_user_id, actor_operator, target_type, target_id, metadata
     FROM audit_logs WHERE action = $1 ORDER BY created_at, id`,
    [action],
  )
