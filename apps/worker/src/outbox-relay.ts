import { context, propagation, ROOT_CONTEXT } from '@opentelemetry/api'
import { claimOutbox, markOutboxPublished, type OutboxMessage, releaseOutbox } from '@repo/core'
import type { PrismaClient } from '@repo/db'
import type { Logger } from '@repo/observability'
import { untracedContext } from '@repo/observability/tracing'
import type { JobsOptions, Queue } from 'bullmq'
import pLimit from 'p-limit'
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
  /**
   * The safety net's interval while commits wake the relay (`listening(true)`): a message
   * whose wake-up was lost, or whose backoff has passed, waits at most this long.
   */
  pollMs?: number
  /** The interval while nothing wakes the relay: no listener, or one not (yet) proven. */
  fallbackPollMs?: number
  batch?: number
  /** Messages of a pass published at once; each keeps its own release on failure. */
  publishConcurrency?: number
  /** How long a claim keeps other relays away; longer than a batch takes to publish. */
  leaseMs?: number
  /** Give up on one publish after this long (and retry it later). */
  addTimeoutMs?: number
  /** Told whenever the relay starts to wait between passes, and for how long. */
  onWait?: (ms: number) => void
}

export type OutboxRelay = ReturnType<typeof createOutboxRelay>

/**
 * Publishes committed outbox messages to their queues: claim a batch (a lease no other
 * relay crosses), add each job under the outbox row's id, a bounded number at once, mark
 * them published. A publish that fails (Redis down, or too slow) gives its message back
 * with a backoff, so nothing is lost and nothing spins. Run as many relays as you like;
 * each message becomes one job (should a relay die between publishing and marking, the
 * next relay publishes it again under the same job id, which BullMQ ignores while it
 * keeps the job).
 *
 * A pass starts when the interval runs out or when `wake()` is called (the listener, on a
 * commit: ADR 038). Wake-ups during a pass fold into exactly one more pass after it.
 */
export function createOutboxRelay(options: OutboxRelayOptions) {
  const { db, queueFor, logger } = options
  const pollMs = options.pollMs ?? 5_000
  const fallbackPollMs = options.fallbackPollMs ?? 500
  const batch = options.batch ?? 100
  const limit = pLimit(options.publishConcurrency ?? 32)
  const leaseMs = options.leaseMs ?? 30_000
  // A queue first used while Redis is down waits for it: the relay must not.
  const addTimeoutMs = options.addTimeoutMs ?? 5_000
  let stopped = false
  let listening = false
  /** A wake-up arrived since the current pass began: run one more before waiting. */
  let woken = false
  /** Resting after a failed pass: wake-ups wait for the rest to end. */
  let resting = false
  /** Ends the current wait early; a no-op outside one. */
  let interrupt: () => void = () => {}
  /**
   * Passes failed in a row (Postgres). The first is told; the rest of the streak goes to
   * debug, however its errors differ (one outage fails as a reset, a refusal or a timeout
   * by turns), until a pass succeeds.
   */
  let failedPasses = 0
  /**
   * The last publish failure (Redis), told once until a publish succeeds: the passes in
   * between, which find every message still backing off, do not count as success.
   */
  let lastPublishError = ''

  /**
   * One pass, untraced: at least every few seconds per worker, its queries would be most
   * of what a collector receives. Each publish still runs in its message's own trace.
   */
  const poll = () => context.with(untracedContext(), pollOnce)

  /** Adds one message's job; on failure gives the message back and returns the error. */
  async function publish(message: OutboxMessage): Promise<string | undefined> {
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
      return undefined
    } catch (error) {
      const failure = (error as Error).message
      // Given back with a backoff (outbox_release), so an outage is not hammered.
      await releaseOutbox({ db }, message.id, failure).catch(() => {})
      return failure
    }
  }

  /** One pass. Returns how many messages were claimed, and how many went out. */
  async function pollOnce() {
    const messages = await claimOutbox({ db }, batch, leaseMs)
    const failures = await limit.map(messages, publish)
    const published = messages.filter((_, i) => failures[i] === undefined).map((m) => m.id)
    await markOutboxPublished({ db }, published)
    const failure = failures.findLast((f) => f !== undefined)
    // Once per distinct failure, not once per message or per pass.
    if (failure && failure !== lastPublishError)
      logger.warn(
        { failed: messages.length - published.length, err: failure },
        'outbox publish failed; will retry',
      )
    if (failure) lastPublishError = failure
    else if (published.length > 0) lastPublishError = ''
    return { claimed: messages.length, published: published.length }
  }

  /** See the returned `wake`. */
  function wake() {
    woken = true
    // After a failed pass the relay rests: a commit must not make it retry at once.
    if (!resting) interrupt()
  }

  let running: Promise<void> | undefined
  async function loop() {
    while (!stopped) {
      woken = false
      let more = false
      let failed = false
      try {
        const { claimed, published } = await poll()
        // More may be waiting only when a whole batch went out; after a failure, wait.
        more = claimed === batch && published === claimed
        if (failedPasses > 0) logger.info({ failedPasses }, 'outbox relay polls again')
        failedPasses = 0
      } catch (error) {
        const err = (error as Error).message
        if (failedPasses++ === 0) logger.warn({ err }, 'outbox relay poll failed')
        else logger.debug({ err, failedPasses }, 'outbox relay poll failed again')
        failed = true
      }
      if (stopped || (!failed && (more || woken))) continue
      // A pass that failed (the database refusing the claim, timing out) is tried again
      // after the fast poll's interval, however many commits wake the relay meanwhile.
      const waitMs = failed || !listening ? fallbackPollMs : pollMs
      options.onWait?.(waitMs)
      resting = failed
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, waitMs)
        interrupt = () => {
          clearTimeout(timer)
          resolve()
        }
      })
      resting = false
      interrupt = () => {}
    }
  }

  return {
    /** One pass: claim, publish, mark. Returns how many messages it claimed. */
    tick: async () => (await poll()).claimed,
    /** Polls until stopped. */
    start() {
      running ??= loop()
    },
    /**
     * A commit may have added messages: pass now, or, during a pass, once more after it
     * (any number of wake-ups during one pass make one more pass, not one each).
     */
    wake,
    /**
     * Whether commits wake the relay. While they do, it polls every `pollMs` as a safety
     * net; otherwise every `fallbackPollMs`. Losing the listener passes at once: commits
     * may have gone unheard while it was failing.
     */
    listening(on: boolean) {
      if (listening && !on) wake()
      listening = on
    },
    /** Finishes the pass in progress, then stops. */
    async stop() {
      stopped = true
      interrupt()
      await running
    },
  }
}
