import pg from 'pg'

/** The role migrations create and grant; the application's login user is a member of it. */
export const APP_ROLE = 'groundwork_app'
/** The worker's role: the application's rights plus the outbox relay's functions. */
export const WORKER_ROLE = 'groundwork_worker'

/**
 * Creates (or updates the password of) the LOGIN user the application connects as, a
 * member of groundwork_app: no superuser, no BYPASSRLS, owner of nothing. Run it as the
 * owner/admin after migrations (`pnpm dev` and the test setup do; production provisioning
 * runs the same statements).
 */
export async function ensureAppLogin(
  adminUrl: string,
  login: { user: string; password: string },
  role: typeof APP_ROLE | typeof WORKER_ROLE = APP_ROLE,
): Promise<void> {
  const client = new pg.Client({ connectionString: adminUrl })
  await client.connect()
  try {
    const user = pg.escapeIdentifier(login.user)
    const password = pg.escapeLiteral(login.password)
    const { rowCount } = await client.query('SELECT 1 FROM pg_roles WHERE rolname = $1', [
      login.user,
    ])
    const attributes = 'LOGIN NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE INHERIT'
    await client.query(
      rowCount
        ? `ALTER ROLE ${user} WITH ${attributes} PASSWORD ${password}`
        : `CREATE ROLE ${user} WITH ${attributes} PASSWORD ${password}`,
    )
    await client.query(`GRANT ${pg.escapeIdentifier(role)} TO ${user}`)
  } finally {
    await client.end()
  }
}
