import { type DeadLetterQueue, openDeadLetters } from '@repo/jobs'
import { Queue } from 'bullmq'
import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'

export interface Queues {
  /** A producer for the named queue, opened once on the shared (fail-fast) connection. */
  get(name: string): Queue
  deadLetters: DeadLetterQueue
}

/**
 * BullMQ producers for the API: enqueueing fails fast while Redis is down (the shared
 * client has no offline queue), so a request answers 503 instead of hanging.
 */
export default fp(
  async function queues(fastify: FastifyInstance) {
    const open = new Map<string, Queue>()
    const watch = <T extends Queue>(queue: T) => {
      // Connection trouble is already logged by the redis plugin.
      queue.on('error', (err) => fastify.log.debug({ err }, 'queue error'))
      return queue
    }
    const deadLetters = watch(openDeadLetters(fastify.redis))
    fastify.decorate('queues', {
      get(name: string) {
        let queue = open.get(name)
        if (!queue) {
          queue = watch(new Queue(name, { connection: fastify.redis }))
          open.set(name, queue)
        }
        return queue
      },
      deadLetters,
    } satisfies Queues)
    fastify.addHook('onClose', async () => {
      await Promise.all([deadLetters.close(), ...[...open.values()].map((q) => q.close())])
    })
  },
  { name: 'queues', dependencies: ['redis'] },
)

declare module 'fastify' {
  interface FastifyInstance {
    queues: Queues
  }
}
