import { queueTelemetry } from '@repo/observability/tracing'
import { type ConnectionOptions, Queue } from 'bullmq'

export interface QueueRegistry {
  /** The producer for the named queue, opened on first use. */
  get(name: string): Queue
  close(): Promise<void>
}

/**
 * Producers by queue name on one connection, opened once each. A queue whose start-up
 * failed (Redis was down) is dropped and opened again on next use: BullMQ keeps a failed
 * initialisation for the life of the queue object.
 */
export function openQueues(
  connection: ConnectionOptions,
  onError: (error: Error) => void = () => {},
): QueueRegistry {
  const open = new Map<string, Queue>()
  return {
    get(name) {
      let queue = open.get(name)
      if (!queue) {
        // With tracing on, every add is a span whose context travels with the job.
        const telemetry = queueTelemetry()
        const created = new Queue(name, { connection, ...(telemetry ? { telemetry } : {}) })
        created.on('error', onError)
        created.waitUntilReady().catch(() => {
          if (open.get(name) === created) open.delete(name)
          created.close().catch(() => {})
        })
        open.set(name, created)
        queue = created
      }
      return queue
    },
    async close() {
      await Promise.all([...open.values()].map((queue) => queue.close().catch(() => {})))
      open.clear()
    },
  }
}
