import { userInfo } from 'node:os'
import { createInterface } from 'node:readline/promises'
import type { Readable, Writable } from 'node:stream'
import type { OperatorActor } from '@repo/core'
import { createDatabaseClient, type PrismaClient } from '@repo/db'
import { openQueues, QUEUES, type QueueRegistry } from '@repo/jobs'
import { Redis } from 'ioredis'
import { opsEnv, readEnv } from './env.ts'
import { EXIT, OpsError } from './errors.ts'

export interface Io {
  stdin: Readable & { isTTY?: boolean }
  stdout: Writable
  stderr: Writable
}

export interface GlobalOptions {
  operator?: string | undefined
  yes?: boolean | undefined
}

type Source = Record<string, string | undefined>

/** Fail fast: an operator wants an answer in seconds, not a command waiting forever. */
const CONNECT_TIMEOUT_MS = 3_000

const hostOf = (url: string) => {
  const { hostname, port } = new URL(url)
  return `${hostname}:${port}`
}

/**
 * What a command works with: the operator's identity, connections opened on first use
 * (and checked then, so an unreachable Postgres or Redis is exit 5 before anything is
 * changed), confirmation, and output. Results go to stdout; questions and warnings to
 * stderr, so `$(pnpm --silent ops ...)` captures a printed secret alone.
 */
export class OpsContext {
  readonly io: Io
  readonly env: Source
  readonly options: GlobalOptions
  #db: PrismaClient | undefined
  #redis: Redis | undefined
  #queues: QueueRegistry | undefined

  constructor(io: Io, env: Source, options: GlobalOptions) {
    this.io = io
    this.env = env
    this.options = options
  }

  out(line = '') {
    this.io.stdout.write(`${line}\n`)
  }

  warn(line: string) {
    this.io.stderr.write(`${line}\n`)
  }

  /**
   * Who is acting, for the audit log: --operator, else OPS_OPERATOR, else (outside
   * production only) the login of the person at this terminal (SUDO_USER under sudo). In
   * production a name must be given: a container's login names nobody.
   */
  operator(): OperatorActor {
    const { NODE_ENV, OPS_OPERATOR } = readEnv(opsEnv.runtime, this.env)
    let name = this.options.operator ?? OPS_OPERATOR
    if (!name && NODE_ENV !== 'production') name = this.env.SUDO_USER || userInfo().username
    name = name?.trim()
    if (!name)
      throw new OpsError(
        EXIT.config,
        'Say who you are: --operator <name> or OPS_OPERATOR (required in production; the audit log records it).',
      )
    // biome-ignore lint/suspicious/noControlCharactersInRegex: refusing control characters is the point
    if (name.length > 100 || /[\u0000-\u001f\u007f]/.test(name))
      throw new OpsError(EXIT.usage, 'The operator name is at most 100 printable characters.')
    return { operator: name }
  }

  /** Postgres as the worker's login, checked with one query. */
  async db(): Promise<PrismaClient> {
    if (this.#db) return this.#db
    const env = readEnv(opsEnv.database, this.env)
    const db = createDatabaseClient({
      ...env,
      DATABASE_CONNECT_TIMEOUT_MS: Math.min(env.DATABASE_CONNECT_TIMEOUT_MS, CONNECT_TIMEOUT_MS),
    })
    try {
      await db.$queryRaw`SELECT 1`
    } catch (error) {
      await db.$disconnect().catch(() => {})
      throw new OpsError(
        EXIT.unavailable,
        `Cannot reach Postgres at ${hostOf(env.DATABASE_URL)}: ${firstLine(error)}. Nothing was changed.`,
      )
    }
    this.#db = db
    return db
  }

  /** Redis, connected without retries (the same fail-fast connection as `pnpm jobs`). */
  async redis(): Promise<Redis> {
    if (this.#redis) return this.#redis
    const { REDIS_URL } = readEnv(opsEnv.redis, this.env)
    const redis = new Redis(REDIS_URL, {
      lazyConnect: true,
      connectTimeout: CONNECT_TIMEOUT_MS,
      commandTimeout: 10_000,
      // BullMQ's queues share this connection and ask for no per-request retry limit.
      maxRetriesPerRequest: null,
      retryStrategy: () => null,
    })
    redis.on('error', () => {}) // reported once, below or by the failing command
    try {
      await redis.connect()
    } catch (error) {
      redis.disconnect()
      throw new OpsError(
        EXIT.unavailable,
        `Cannot reach Redis at ${hostOf(REDIS_URL)}: ${firstLine(error)}. Nothing was changed.`,
      )
    }
    this.#redis = redis
    return redis
  }

  /** The queue producers, on the checked Redis connection. */
  async queues(): Promise<QueueRegistry> {
    this.#queues ??= openQueues(await this.redis())
    return this.#queues
  }

  /** A queue's name as the worker declares it, or exit 3 naming the ones there are. */
  queueName(name: string): string {
    if (Object.hasOwn(QUEUES, name)) return name
    throw new OpsError(
      EXIT.notFound,
      `No queue "${name}". The queues are: ${Object.keys(QUEUES).join(', ')}.`,
    )
  }

  /**
   * Asks before a destructive change. `expected`: the answer must be exactly it (a name
   * the operator types, so a slip of the finger or the wrong terminal does not do it);
   * otherwise y or yes. --yes skips the question; without a terminal and without --yes,
   * the command is refused (exit 4), never assumed.
   */
  async confirm(question: string, expected?: string): Promise<void> {
    if (this.options.yes) return
    if (!this.io.stdin.isTTY)
      throw new OpsError(
        EXIT.notConfirmed,
        'Not confirmed: there is no terminal to ask on. Re-run with --yes if you mean it. Nothing was changed.',
      )
    const prompt = createInterface({ input: this.io.stdin, output: this.io.stderr, terminal: true })
    try {
      const ask = expected ? `${question}\nType ${expected} to confirm: ` : `${question} [y/N] `
      const answer = (await prompt.question(ask)).trim()
      const confirmed = expected ? answer === expected : /^y(es)?$/i.test(answer)
      if (!confirmed) throw new OpsError(EXIT.notConfirmed, 'Not confirmed. Nothing was changed.')
    } finally {
      prompt.close()
    }
  }

  async close() {
    await this.#queues?.close().catch(() => {})
    this.#redis?.disconnect()
    await this.#db?.$disconnect().catch(() => {})
  }
}

/**
 * What went wrong, in one line, not the stack: an error's first line, or for Prisma's
 * "Invalid `prisma...` invocation" wrapper the cause it ends with.
 */
export function firstLine(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error)
  const lines = message
    .split('\n')
    .map((line) => line.trim())
    .filter(Boolean)
  let line = lines[0] ?? 'unknown error'
  if (line.startsWith('Invalid `prisma')) {
    line = lines.at(-1) ?? line
    line = /Message: `(.*)`/.exec(line)?.[1] ?? line
  }
  return line.replace(/\.+$/, '')
}
