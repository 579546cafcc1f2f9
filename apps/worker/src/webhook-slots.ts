import type { DeliverySlots } from '@repo/core'
import type { Redis } from 'ioredis'
import { Semaphore } from 'redis-semaphore'

export interface DeliverySlotLimits {
  perOrganization: number
  perEndpoint: number
  /**
   * How long a slot is held at most: one attempt's timeout and a margin. A worker that
   * dies mid-attempt frees its slots when this lapses.
   */
  holdMs: number
  /** Namespaces the keys, as the queues' prefix does (tests, several deployments). */
  prefix?: string
}

/**
 * Delivery slots in Redis, shared by every worker (redis-semaphore's counting semaphore:
 * a sorted set of holders with expiry). `deliverWebhook` takes the organization's slot
 * first, then the endpoint's; no waiting: a job that finds none free is deferred by its
 * handler.
 */
export function redisDeliverySlots(redis: Redis, limits: DeliverySlotLimits): DeliverySlots {
  const options = {
    lockTimeout: limits.holdMs,
    // An attempt ends within its timeout, so no refresh is needed; one try, no waiting.
    refreshInterval: 0,
    acquireAttemptsLimit: 1,
  }
  const key = (kind: 'organization' | 'endpoint', id: string) =>
    `${limits.prefix ?? 'groundwork'}:webhook-slots:${kind}:${id}`
  const limit = { organization: limits.perOrganization, endpoint: limits.perEndpoint }
  return {
    async acquire(kind, id) {
      const semaphore = new Semaphore(redis, key(kind, id), limit[kind], options)
      if (!(await semaphore.tryAcquire())) return null
      return () => semaphore.release()
    },
  }
}
