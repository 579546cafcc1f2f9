/** What the global setup hands to every test file (vitest provide/inject). */
export interface TestServices {
  /** Superuser URL of the run's Postgres server (maintenance database). */
  postgresUrl: string
  /** Migrated database that every test database is cloned from. */
  templateDatabase: string
  /** Base URL of the run's Redis server. */
  redisUrl: string
  /** Logical Redis databases available; db 0 holds the allocation counter. */
  redisDatabases: number
  runtime: 'container' | 'local'
}

declare module 'vitest' {
  export interface ProvidedContext {
    groundworkServices: TestServices
  }
}

export const TEMPLATE_DATABASE = 'groundwork_template'
/** The application's login in test servers (member of groundwork_app, RLS applies). */
export const TEST_APP_LOGIN = { user: 'groundwork_test_app', password: 'groundwork_test_app' }
export const TEST_WORKER_LOGIN = {
  user: 'groundwork_test_worker',
  password: 'groundwork_test_worker',
}
export const REDIS_DATABASES = 512
export const REDIS_COUNTER_KEY = 'groundwork:test:next-db'

/** Replaces the database name (path) and, optionally, the credentials of a Postgres URL. */
export function withDatabase(
  url: string,
  database: string,
  login?: { user: string; password: string },
): string {
  const parsed = new URL(url)
  parsed.pathname = `/${database}`
  if (login) {
    parsed.username = encodeURIComponent(login.user)
    parsed.password = encodeURIComponent(login.password)
  }
  return parsed.toString()
}
