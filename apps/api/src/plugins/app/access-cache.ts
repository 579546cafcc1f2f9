import { accessChangesChannel, decodeAccessChange } from '@repo/core'
import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import { AccessCache } from '../../lib/access-cache.ts'

/**
 * The instance's short-lived copy of sessions and memberships (ADR 035), and its
 * subscription to access changes: a dedicated Redis connection (a subscribed connection
 * can send nothing else) on the access-change channel of its Redis database
 * (accessChangesChannel). The cache serves only while that subscription stands; on every
 * (re)subscription it starts empty.
 */
export default fp(
  async function accessCache(fastify: FastifyInstance) {
    const cache = new AccessCache({
      ttlMs: fastify.config.ACCESS_CACHE_TTL_MS,
      maxEntries: fastify.config.ACCESS_CACHE_MAX_ENTRIES,
      idleTimeoutMs: fastify.config.SESSION_IDLE_TIMEOUT_HOURS * 3_600_000,
    })
    fastify.decorate('accessCache', cache)
    if (fastify.config.ACCESS_CACHE_TTL_MS === 0) return

    const channel = accessChangesChannel(fastify.redis)
    const subscriber = fastify.redis.duplicate({
      lazyConnect: true,
      // Subscribed again by hand on every 'ready', so the cache turns on only once it is.
      autoResubscribe: false,
      connectionName: 'groundwork-access-changes',
    })
    let lastError = ''
    let warnedMalformed = false
    subscriber.on('error', (err) => {
      if (err.message !== lastError)
        fastify.log.warn({ err }, 'access-change subscription: redis connection error')
      lastError = err.message
    })
    subscriber.on('ready', () => {
      lastError = ''
      subscriber.subscribe(channel).then(
        () => {
          cache.setListening(true)
          fastify.log.info('listening for access changes: sessions and memberships cached')
        },
        (err: unknown) => {
          // Not subscribed on a connection that looks healthy: reconnect (and subscribe again
          // on 'ready') rather than serve without the cache until something else breaks it.
          fastify.log.warn({ err }, 'access-change subscription failed; reconnecting')
          subscriber.disconnect(true)
        },
      )
    })
    // Whatever ends the connection, announcements may be missed from here on.
    subscriber.on('close', () => cache.setListening(false))
    subscriber.on('message', (from: string, message: string) => {
      if (from !== channel) return
      const change = decodeAccessChange(message)
      if (change) {
        cache.forget(change)
        return
      }
      // Not ours: someone else publishes here. Forget everything rather than guess.
      cache.clear()
      if (!warnedMalformed)
        fastify.log.warn('malformed message on the access-change channel; cache cleared')
      warnedMalformed = true
    })
    fastify.addHook('onReady', async () => {
      subscriber.connect().catch(() => {})
    })
    fastify.addHook('onClose', async () => {
      cache.setListening(false)
      await subscriber.quit().catch(() => subscriber.disconnect())
    })
  },
  { name: 'access-cache', dependencies: ['redis'] },
)

declare module 'fastify' {
  interface FastifyInstance {
    accessCache: AccessCache
  }
}
