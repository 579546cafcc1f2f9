import pTimeout from 'p-timeout'
import pg from 'pg'

export interface DatabaseProbe {
  /** Resolves when Postgres answers `SELECT 1` within `timeoutMs`; rejects otherwise. */
  ping(timeoutMs: number): Promise<void>
  close(): Promise<void>
}

/**
 * Readiness's view of Postgres: one connection of its own, kept open and reused, so the
 * probe costs the database one connection however often it is asked (concurrent pings
 * share one attempt), and a hung database cannot tie up the application's pool. A
 * connection that fails or times out is thrown away and the next ping opens a new one, so
 * the probe follows Postgres going down and coming back.
 */
export function createDatabaseProbe(url: string): DatabaseProbe {
  let client: pg.Client | undefined
  let pending: Promise<void> | undefined
  let closed = false

  const discard = (stale: pg.Client) => {
    if (client === stale) client = undefined
    stale.end().catch(() => {})
    // end() waits for the server's goodbye; a hung server never sends it.
    const socket = (stale as unknown as { connection?: { stream?: { destroy(): void } } })
      .connection?.stream
    setTimeout(() => socket?.destroy(), 100).unref()
  }

  const attempt = async (timeoutMs: number) => {
    if (closed) throw new Error('the database probe is closed')
    let current = client
    if (!current) {
      current = new pg.Client({
        connectionString: url,
        connectionTimeoutMillis: timeoutMs,
        query_timeout: timeoutMs,
        statement_timeout: timeoutMs,
        application_name: 'readiness-probe',
      })
      const created = current
      created.on('error', () => discard(created))
      client = created
      try {
        await created.connect()
      } catch (error) {
        discard(created)
        throw error
      }
    }
    try {
      await current.query('SELECT 1')
    } catch (error) {
      discard(current)
      throw error
    }
  }

  return {
    ping(timeoutMs) {
      pending ??= attempt(timeoutMs).finally(() => {
        pending = undefined
      })
      return pending
    },
    async close() {
      closed = true
      await pending?.catch(() => {})
      if (client) {
        const last = client
        client = undefined
        // end() waits for the server's goodbye; a hung one never sends it.
        await pTimeout(
          last.end().catch(() => {}),
          { milliseconds: 100, message: false },
        )
      }
    },
  }
}
