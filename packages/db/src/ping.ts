import pg from 'pg'

/**
 * Answers whether Postgres accepts a connection and a query within `timeoutMs`, on a
 * connection of its own: a hung database then cannot tie up the application's pool, and
 * the probe gives up on time instead of waiting for the statement timeout.
 */
export async function pingDatabase(url: string, timeoutMs: number): Promise<void> {
  const client = new pg.Client({
    connectionString: url,
    connectionTimeoutMillis: timeoutMs,
    query_timeout: timeoutMs,
    statement_timeout: timeoutMs,
    application_name: 'readiness-probe',
  })
  client.on('error', () => {})
  try {
    await client.connect()
    await client.query('SELECT 1')
  } finally {
    // end() waits for the server; a hung one must not hold the probe.
    await Promise.race([
      client.end().catch(() => {}),
      new Promise((resolve) => setTimeout(resolve, 100)),
    ])
  }
}
