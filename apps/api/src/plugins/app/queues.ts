import { DEAD_LETTER_QUEUE, type DeadLetterQueue, openQueues } from '@repo/jobs'
import type { Queue } from 'bullmq'
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
 * client has no offline queue), so a request answers 503 instead of hanging; a queue
 * opened during an outage is reopened once Redis is back (`openQueues`).
 */
export default fp(
  async function queues(fastify: FastifyInstance) {
    // Connection trouble is already logged by the redis plugin.
    const registry = openQueues(fastify.redis, (err) => fastify.log.debug({ err }, 'queue error'))
    fastify.decorate('queues', {
      get: registry.get,
      get deadLetters() {
        return registry.get(DEAD_LETTER_QUEUE) as DeadLetterQueue
      },
    } satisfies Queues)
    fastify.addHook('onClose', () => registry.close())
  },
  { name: 'queues', dependencies: ['redis'] },
)

declare module 'fastify' {
  interface FastifyInstance {
    queues: Queues
  }
}
