import { randomUUID } from 'node:crypto'
import { setTimeout as delay } from 'node:timers/promises'
import type { Logger } from '@repo/observability'
import pTimeout from 'p-timeout'
import pg from 'pg'
import type { OutboxRelay } from './outbox-relay.ts'

/** What the outbox's trigger notifies (migration 20261202130000_outbox_notify_on_commit). */
export const OUTBOX_CHANNEL = 'outbox_messages'

export interface OutboxListenerOptions {
  /**
   * A connection that keeps its session, or LISTEN means nothing: Postgres itself, or a
   * PgBouncer database in session mode (OUTBOX_LISTEN_DATABASE_URL).
   */
  connectionString: string
  relay: Pick<OutboxRelay, 'wake' | 'listening'>
  /**
   * Sends `payload` on `channel` from another session (the relay's own database client).
   * The probe: only a notification that crosses from another session proves the listening
   * one hears what others commit. Through PgBouncer in transaction mode, a NOTIFY on the
   * listener's own connection would come back to it and prove nothing.
   */
  notify: (channel: string, payload: string) => Promise<unknown>
  logger: Logger
  /** How often the connection must answer `SELECT 1`. */
  heartbeatMs?: number
  /** Connecting, LISTEN, a heartbeat's answer and the probe's arrival each get this long. */
  timeoutMs?: number
  /** Reconnecting waits between half of and this (doubling from `minBackoffMs`), with jitter. */
  maxBackoffMs?: number
  minBackoffMs?: number
  /** A connection that could not prove it hears commits is tried again after this long. */
  unprovenRetryMs?: number
  /** The jitter's source, from 0 to 1 (tests fix it). */
  random?: () => number
}

/** Why a session ended: the connection failed or went silent, or never proved it hears. */
type Ending = { lost: Error } | { unproven: true } | { stopped: true }

/**
 * Wakes the outbox relay when a transaction that wrote outbox messages commits (ADR 038):
 * one dedicated connection, not from a pool, LISTENs on the outbox's channel. Before the
 * relay relies on it (and slows its polling), a probe sent from another session must
 * arrive over it; through PgBouncer in transaction mode none does, and the relay keeps
 * polling fast, with one warning. The connection answers a heartbeat or is replaced;
 * whatever ends it, the listener reconnects with jittered exponential backoff, and every
 * connection starts with a relay pass for what committed while nobody listened.
 */
export function createOutboxListener(options: OutboxListenerOptions) {
  const { relay, logger } = options
  const heartbeatMs = options.heartbeatMs ?? 5_000
  const timeoutMs = options.timeoutMs ?? 3_000
  const minBackoffMs = options.minBackoffMs ?? 200
  const maxBackoffMs = options.maxBackoffMs ?? 15_000
  const unprovenRetryMs = options.unprovenRetryMs ?? 300_000
  const random = options.random ?? Math.random
  const stopping = new AbortController()
  let client: pg.Client | undefined
  let running: Promise<void> | undefined
  /** Connections in a row that ended before proving themselves: the backoff's exponent. */
  let failures = 0
  /** When the current outage began (its first failed connection), or undefined while none. */
  let outageSince: number | undefined
  let warnedUnproven = false

  /** Waits `ms`, or less when `signal` aborts; never rejects. */
  const sleep = (ms: number, signal: AbortSignal) =>
    delay(ms, undefined, { signal }).catch(() => undefined)

  /** Ends a connection: politely, or by dropping the socket when it does not answer. */
  async function close(connection: pg.Client) {
    await pTimeout(connection.end(), { milliseconds: timeoutMs }).catch(() =>
      connection.connection.stream.destroy(),
    )
  }

  /** One connection, from connect to its end. */
  async function session(): Promise<Ending> {
    const connection = new pg.Client({
      connectionString: options.connectionString,
      connectionTimeoutMillis: timeoutMs,
      keepAlive: true,
      application_name: 'groundwork-outbox-listener',
    })
    client = connection
    // Aborted, with the error as its reason, when the connection fails or ends.
    const lost = new AbortController()
    const ended = new Promise<{ lost: Error }>((resolve) => {
      const end = (error: Error) => {
        if (!lost.signal.aborted) lost.abort(error)
        resolve({ lost: error })
      }
      connection.on('error', end)
      connection.on('end', () => end(new Error('the connection ended')))
    })
    // The probe's channel: new for every connection, so a LISTEN left behind on a pooled
    // server connection (PgBouncer in transaction mode keeps it there) never hears again.
    const probeChannel = `outbox_probe_${randomUUID().replaceAll('-', '')}`
    let probed: () => void = () => {}
    const heard = new Promise<'heard'>((resolve) => {
      probed = () => resolve('heard')
    })
    connection.on('notification', ({ channel }) => {
      if (channel === probeChannel) probed()
      else if (channel === OUTBOX_CHANNEL) relay.wake()
    })
    const ends = new AbortController()
    const signal = AbortSignal.any([stopping.signal, ends.signal])
    const stopped = new Promise<{ stopped: true }>((resolve) =>
      signal.addEventListener('abort', () => resolve({ stopped: true }), { once: true }),
    )
    /** `work`, unless the connection ends, the listener stops, or `ms` pass first. */
    const whileAlive = <T>(work: Promise<T>, ms: number, what: string) =>
      Promise.race([
        pTimeout(work, { milliseconds: ms, message: `${what} got no answer within ${ms} ms` }),
        ended,
        stopped,
      ])
    try {
      const ready = await whileAlive(
        connection
          .connect()
          .then(() => connection.query(`LISTEN ${probeChannel}`))
          .then(() => options.notify(probeChannel, ''))
          .then(() => ({ ready: true })),
        timeoutMs * 2,
        'connecting, LISTEN and sending the probe',
      )
      if ('lost' in ready || 'stopped' in ready) return ready
      const proof = await Promise.race([heard, ended, stopped, sleep(timeoutMs, signal)])
      if (proof === undefined) return { unproven: true }
      if (proof !== 'heard') return proof

      // Proven: listen for commits from now on, then pass once for whatever committed
      // while nobody listened (in that order, so no commit falls between the two).
      const listening = await whileAlive(
        connection
          .query(`UNLISTEN ${probeChannel}; LISTEN ${OUTBOX_CHANNEL}`)
          .then(() => ({ listening: true })),
        timeoutMs,
        'LISTEN',
      )
      if ('lost' in listening || 'stopped' in listening) return listening
      relay.wake()
      relay.listening(true)
      const outage =
        outageSince === undefined
          ? {}
          : { attempts: failures, downMs: Math.round(performance.now() - outageSince) }
      failures = 0
      outageSince = undefined
      logger.info(outage, 'outbox listener hears commits; the relay polls only as a safety net')
      // For as long as the connection lives: every wait here gives its abort listener
      // back when it settles (a race against the session's pending promises would add
      // handlers to them at every beat, kept until the connection ends).
      const alive = AbortSignal.any([signal, lost.signal])
      const why = (): Ending =>
        lost.signal.aborted && !stopping.signal.aborted
          ? { lost: lost.signal.reason as Error }
          : { stopped: true }
      for (;;) {
        await sleep(heartbeatMs, alive)
        if (alive.aborted) return why()
        try {
          await pTimeout(connection.query('SELECT 1'), {
            milliseconds: timeoutMs,
            signal: alive,
            message: `a heartbeat got no answer within ${timeoutMs} ms`,
          })
        } catch (error) {
          return alive.aborted ? why() : { lost: error as Error }
        }
      }
    } catch (error) {
      return { lost: error as Error }
    } finally {
      ends.abort()
      relay.listening(false)
      await close(connection)
      if (client === connection) client = undefined
    }
  }

  async function run() {
    while (!stopping.signal.aborted) {
      const ending = await session()
      if ('stopped' in ending || stopping.signal.aborted) return
      if ('unproven' in ending) {
        // Once: a PgBouncer in transaction mode fails every probe, for as long as it runs.
        if (!warnedUnproven)
          logger.warn(
            { probeTimeoutMs: timeoutMs, retryInMs: unprovenRetryMs },
            'outbox listener: a NOTIFY sent from another session did not arrive over LISTEN, so this connection cannot hear commits (PgBouncer in transaction mode never delivers them). Set OUTBOX_LISTEN_DATABASE_URL to a connection that keeps its session: Postgres itself, or a PgBouncer database in session mode. Until then the outbox relay polls every OUTBOX_FALLBACK_POLL_MS.',
          )
        warnedUnproven = true
        await sleep(unprovenRetryMs, stopping.signal)
        continue
      }
      const ceiling = Math.min(maxBackoffMs, minBackoffMs * 2 ** failures)
      const retryInMs = Math.round(ceiling / 2 + (random() * ceiling) / 2)
      failures++
      // One warning per outage, not one per attempt while the database stays away, nor
      // one per distinct error: the same outage fails as a reset, a refusal or a timeout
      // by turns, depending on where each attempt meets it. The attempts after the first
      // go to debug; the line that tells it is back counts them.
      if (outageSince === undefined) {
        outageSince = performance.now()
        logger.warn(
          { err: ending.lost.message, retryInMs },
          'outbox listener lost its connection; the relay polls every OUTBOX_FALLBACK_POLL_MS until it is back',
        )
      } else
        logger.debug(
          { err: ending.lost.message, attempt: failures, retryInMs },
          'outbox listener could not reconnect yet',
        )
      await sleep(retryInMs, stopping.signal)
    }
  }

  return {
    /** Connects and keeps a connection until stopped. */
    start() {
      running ??= run()
    },
    /** Closes the connection and clears every timer. */
    async stop() {
      stopping.abort()
      await running
    },
    /**
     * The connection's backend process id, while one is open (for tests and diagnostics;
     * pg sets `processID` from the server's BackendKeyData, its types do not declare it).
     */
    backendPid: () => (client as (pg.Client & { processID?: number }) | undefined)?.processID,
  }
}
