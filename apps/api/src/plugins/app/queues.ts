import { DEAD_LETTER_QUEUE, type DeadLetterQueue } from '@repo/jobs'
import { Queue } from 'bullmq'
import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'

export interface Queues {
  /** A producer for the named queue on the shared (fail-fast) connection. */
  get(name: string): Queue
  /** The dead-letter queue, for the admin routes. */
  readonly deadLetters: DeadLetterQueue
}

/**
 * BullMQ producers for the API: enqueueing fails fast while Redis is down (the shared
 * client has no offline queue), so a request answers 503 instead of hanging. A queue
 * whose start-up failed (Redis was down) is dropped and opened again on next use: BullMQ
 * keeps a failed initialisation for the life of the queue object.
 */
export default fp(
  async function queues(fastify: FastifyInstance) {
    const open = new Map<string, Queue>()
    const get = (name: string) => {
      let queue = open.get(name)
      if (!queue) {
        const created = new Queue(name, { connection: fastify.redis })
        // Connection trouble is already logged by the redis plugin.
        created.on('error', (err) => fastify.log.debug({ err }, 'queue error'))
        created.waitUntilReady().catch(() => {
          if (open.get(name) === created) open.delete(name)
          created.close().catch(() => {})
        })
        open.set(name, created)
        queue = created
      }
      return queue
    }
    fastify.decorate('queues', {
      get,
      get deadLetters() {
        return get(DEAD_LETTER_QUEUE) as DeadLetterQueue
      },
    } satisfies Queues)
    fastify.addHook('onClose', async () => {
      await Promise.all([...open.values()].map((queue) => queue.close().catch(() => {})))
    })
  },
  { name: 'queues', dependencies: ['redis'] },
)

declare module 'fastify' {
  interface FastifyInstance {
    queues: Queues
  }
}
