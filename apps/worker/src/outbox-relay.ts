import { claimOutbox, markOutboxPublished, releaseOutbox } from '@repo/core'
import type { PrismaClient } from '@repo/db'
import type { Logger } from '@repo/observability'
import type { JobsOptions, Queue } from 'bullmq'

export interface OutboxRelayOptions {
  db: PrismaClient
  /** Producers on a fail-fast Redis connection: an outage is an error, not a hang. */
  queueFor: (name: string) => Pick<Queue, 'add'>
  logger: Logger
  pollMs?: number
  batch?: number
  /** How long a claim keeps other relays away; longer than a batch takes to publish. */
  leaseMs?: number
}

/**
 * Publishes committed outbox messages to their queues: claim a batch (a lease no other
 * relay crosses), add each job under the outbox row's id, mark them published. A publish
 * that fails (Redis down) gives the message back with its error for the next poll, so
 * nothing is lost. Run as many relays as you like; each message is published once (and
 * should a relay die between publishing and marking, the same job id makes the next
 * publish a no-op while the job exists).
 */
export function createOutboxRelay(options: OutboxRelayOptions) {
  const { db, queueFor, logger } = options
  const pollMs = options.pollMs ?? 500
  const batch = options.batch ?? 100
  const leaseMs = options.leaseMs ?? 30_000
  let stopped = false
  let wake: () => void = () => {}

  async function tick(): Promise<number> {
    const messages = await claimOutbox({ db }, batch, leaseMs)
    const published: string[] = []
    for (const message of messages) {
      try {
        await queueFor(message.queue).add(message.job_name, message.data, {
          ...(message.options as JobsOptions),
          jobId: message.id,
        })
        published.push(message.id)
      } catch (error) {
        const reason = (error as Error).message
        logger.warn(
          { outboxId: message.id, queue: message.queue, err: reason },
          'outbox publish failed; will retry',
        )
        await releaseOutbox({ db }, message.id, reason).catch(() => {})
      }
    }
    await markOutboxPublished({ db }, published)
    if (published.length) logger.debug({ published: published.length }, 'outbox published')
    return messages.length
  }

  let running: Promise<void> | undefined
  let lastError = ''
  async function loop() {
    while (!stopped) {
      let claimed = 0
      try {
        claimed = await tick()
        lastError = ''
      } catch (error) {
        // Once per distinct failure (Postgres down), not once per poll.
        const message = (error as Error).message
        if (message !== lastError) logger.warn({ err: message }, 'outbox relay poll failed')
        lastError = message
      }
      // A full batch means more may be waiting: go again at once.
      if (claimed < batch && !stopped) {
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
    tick,
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
