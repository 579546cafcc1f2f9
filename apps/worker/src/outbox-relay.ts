import { context, propagation, ROOT_CONTEXT } from '@opentelemetry/api'
import { claimOutbox, markOutboxPublished, releaseOutbox } from '@repo/core'
import type { PrismaClient } from '@repo/db'
import type { Logger } from '@repo/observability'
import { untracedContext } from '@repo/observability/tracing'
import type { JobsOptions, Queue } from 'bullmq'
import pTimeout from 'p-timeout'

/**
 * An outbox message's job data, and the trace context stored beside it (ROOT_CONTEXT when
 * it has none). The trace stays out of the job: BullMQ's telemetry carries it to the
 * worker, and a worker of an older release never meets a field it does not know.
 */
function splitTrace(data: unknown) {
  if (!data || typeof data !== 'object' || !('trace' in data))
    return { job: data, trace: ROOT_CONTEXT }
  const { trace: stored, ...job } = data as {
    trace?: { traceparent?: unknown; tracestate?: unknown }
  }
  const carrier: Record<string, string> = {}
  if (typeof stored?.traceparent === 'string') carrier.traceparent = stored.traceparent
  if (typeof stored?.tracestate === 'string') carrier.tracestate = stored.tracestate
  return { job, trace: propagation.extract(ROOT_CONTEXT, carrier) }
}

export interface OutboxRelayOptions {
  db: PrismaClient
  /** Producers on a fail-fast Redis connection: an outage is an error, not a hang. */
  queueFor: (name: string) => Pick<Queue, 'add'>
  logger: Logger
  pollMs?: number
  batch?: number
  /** How long a claim keeps other relays away; longer than a batch takes to publish. */
  leaseMs?: number
  /** Give up on one publish after this long (and retry it later). */
  addTimeoutMs?: number
}

/**
 * Publishes committed outbox messages to their queues: claim a batch (a lease no other
 * relay crosses), add each job under the outbox row's id, mark them published. A publish
 * that fails (Redis down, or too slow) gives the message back with a backoff, so nothing
 * is lost and nothing spins. Run as many relays as you like; each message becomes one
 * job (should a relay die between publishing and marking, the next relay publishes it
 * again under the same job id, which BullMQ ignores while it keeps the job).
 */
export function createOutboxRelay(options: OutboxRelayOptions) {
  const { db, queueFor, logger } = options
  const pollMs = options.pollMs ?? 500
  const batch = options.batch ?? 100
  const leaseMs = options.leaseMs ?? 30_000
  // A queue first used while Redis is down waits for it: the relay must not.
  const addTimeoutMs = options.addTimeoutMs ?? 5_000
  let stopped = false
  let wake: () => void = () => {}
  let lastError = ''

  /**
   * One poll, untraced: twice a second per worker, its queries would be most of what a
   * collector receives. Each publish still runs in its message's own trace.
   */
  const poll = () => context.with(untracedContext(), pollOnce)

  /** One poll. Returns how many messages were claimed, and how many went out. */
  async function pollOnce() {
    const messages = await claimOutbox({ db }, batch, leaseMs)
    const published: string[] = []
    let failure: string | undefined
    for (const message of messages) {
      try {
        // Published inside the trace of the request that wrote the row: BullMQ's telemetry
        // records the publish there and hands the context to the worker's processing span.
        const { job, trace } = splitTrace(message.data)
        await context.with(trace, () =>
          pTimeout(
            queueFor(message.queue).add(message.job_name, job, {
              ...(message.options as JobsOptions),
              jobId: message.id,
            }),
            { milliseconds: addTimeoutMs, message: `publish timed out after ${addTimeoutMs} ms` },
          ),
        )
        published.push(message.id)
      } catch (error) {
        failure = (error as Error).message
        // Given back with a backoff (outbox_release), so an outage is not hammered.
        await releaseOutbox({ db }, message.id, failure).catch(() => {})
      }
    }
    await markOutboxPublished({ db }, published)
    // Once per distinct failure, not once per message or per poll.
    if (failure && failure !== lastError)
      logger.warn(
        { failed: messages.length - published.length, err: failure },
        'outbox publish failed; will retry',
      )
    lastError = failure ?? ''
    return { claimed: messages.length, published: published.length }
  }

  let running: Promise<void> | undefined
  async function loop() {
    while (!stopped) {
      let more = false
      try {
        const { claimed, published } = await poll()
        // More may be waiting only when a whole batch went out; after a failure, wait.
        more = claimed === batch && published === claimed
      } catch (error) {
        const message = (error as Error).message
        if (message !== lastError) logger.warn({ err: message }, 'outbox relay poll failed')
        lastError = message
      }
      if (!more && !stopped) {
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, pollMs)
          wake = () => {
            clearTimeout(timer)
            resolve()
          }
        })
      }
    }
  }

  return {
    /** One poll: claim, publish, mark. Returns how many messages it claimed. */
    tick: async () => (await poll()).claimed,
    /** Polls until stopped. */
    start() {
      running ??= loop()
    },
    /** Finishes the poll in progress, then stops. */
    async stop() {
      stopped = true
      wake()
      await running
    },
  }
}
