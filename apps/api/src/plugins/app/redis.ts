import { once } from 'node:events'
import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import { Redis } from 'ioredis'

/**
 * Redis for request-path work (rate limits, idempotency, enqueueing). Fails fast while
 * Redis is unreachable (no offline queue, one retry) instead of letting requests hang,
 * and keeps reconnecting in the background.
 */
export default fp(
  async function redis(fastify: FastifyInstance) {
    const client = new Redis(fastify.config.REDIS_URL, {
      lazyConnect: true,
      // No enableAutoPipelining: ioredis 6 can throw from its auto-pipeline callback
      // (results[i] is not iterable) when the connection closes with a batch pending,
      // which crashed the process during shutdown under load.
      enableOfflineQueue: false,
      maxRetriesPerRequest: 1,
      // A frozen Redis must not hold requests: commands give up and the caller gets a 503.
      commandTimeout: 2_000,
      connectTimeout: fastify.config.REDIS_CONNECT_TIMEOUT_MS,
      retryStrategy: (attempt) => Math.min(attempt * 200, 2_000),
    })
    let lastError = ''
    client.on('error', (err) => {
      // One line per distinct failure, not one per reconnect attempt.
      if (err.message !== lastError) fastify.log.warn({ err }, 'redis connection error')
      lastError = err.message
    })
    client.on('ready', () => {
      lastError = ''
    })
    fastify.decorate('redis', client)
    // Wait (bounded) for the first connection so the server starts ready when Redis is up;
    // when it is not, start anyway and keep reconnecting while /readyz reports it.
    fastify.addHook('onReady', async () => {
      // Another plugin (the email queue) may have opened the connection already.
      if (client.status === 'ready') return
      const connected = once(client, 'ready', {
        signal: AbortSignal.timeout(fastify.config.REDIS_CONNECT_TIMEOUT_MS),
      }).then(
        () => true,
        () => false,
      )
      if (client.status === 'wait') client.connect().catch(() => {})
      if (!(await connected))
        fastify.log.warn('redis not reachable at start-up; /readyz reports it')
    })
    fastify.addHook('onClose', async () => {
      await client.quit().catch(() => client.disconnect())
    })
  },
  { name: 'redis' },
)

declare module 'fastify' {
  interface FastifyInstance {
    redis: Redis
  }
}
