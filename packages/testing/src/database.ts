import { randomBytes } from 'node:crypto'
import pg from 'pg'
import { inject } from 'vitest'
import { TEST_APP_LOGIN, TEST_WORKER_LOGIN, type TestServices, withDatabase } from './context.ts'

export interface TestDatabase {
  name: string
  /** Superuser URL of this file's own database, migrated and empty: for setup and checks. */
  url: string
  /** The application's URL: its own login, subject to row-level security. Give it to apps. */
  appUrl: string
  /** The worker's login: the application's rights plus the outbox relay's. */
  workerUrl: string
  drop(): Promise<void>
}

export type CloneStrategy = 'FILE_COPY' | 'WAL_LOG'

/**
 * Creates a database as a copy of `template` (which must have no open connections).
 * FILE_COPY copies the template's files and is the faster strategy for small databases.
 */
export async function cloneDatabase(
  adminUrl: string,
  template: string,
  strategy: CloneStrategy = 'FILE_COPY',
): Promise<TestDatabase> {
  const name = `test_${randomBytes(8).toString('hex')}`
  await withAdmin(adminUrl, async (admin) => {
    await admin.query(
      `CREATE DATABASE ${pg.escapeIdentifier(name)} TEMPLATE ${pg.escapeIdentifier(template)} STRATEGY ${strategy === 'WAL_LOG' ? 'WAL_LOG' : 'FILE_COPY'}`,
    )
    // Database privileges are not copied from a template; the migrations revoke this one.
    await admin.query(`REVOKE TEMPORARY ON DATABASE ${pg.escapeIdentifier(name)} FROM PUBLIC`)
  })
  return {
    name,
    url: withDatabase(adminUrl, name),
    appUrl: withDatabase(adminUrl, name, TEST_APP_LOGIN),
    workerUrl: withDatabase(adminUrl, name, TEST_WORKER_LOGIN),
    drop: () =>
      withAdmin(adminUrl, (admin) =>
        admin.query(`DROP DATABASE IF EXISTS ${pg.escapeIdentifier(name)} WITH (FORCE)`),
      ).then(() => {}),
  }
}

/**
 * A database of this test file's own, cloned from the migrated template in tens of
 * milliseconds, so files run in parallel without sharing rows. `migrated: false` gives an
 * empty database instead (for migration tests). `services`: the run's servers, for a
 * process outside Vitest (startTestServices); tests get them from the global setup.
 */
export async function createTestDatabase(
  options: { migrated?: boolean; services?: TestServices } = {},
): Promise<TestDatabase> {
  const { postgresUrl, templateDatabase } = options.services ?? inject('groundworkServices')
  return cloneDatabase(postgresUrl, options.migrated === false ? 'template0' : templateDatabase)
}

export async function withAdmin<T>(
  url: string,
  work: (admin: pg.Client) => Promise<T>,
): Promise<T> {
  const admin = new pg.Client({ connectionString: url })
  await admin.connect()
  try {
    return await work(admin)
  } finally {
    await admin.end()
  }
}
