/** Settings of `createDatabaseClient` for a core test's small pool on its own database. */
export const testDatabaseConfig = (url: string) => ({
  DATABASE_URL: url,
  DATABASE_POOL_MAX: 2,
  DATABASE_CONNECT_TIMEOUT_MS: 5_000,
  DATABASE_STATEMENT_TIMEOUT_MS: 10_000,
})
