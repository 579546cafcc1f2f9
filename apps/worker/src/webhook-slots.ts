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
 * a sorted set of holders with expiry). The organization's slot first, then the
 * endpoint's; no waiting: a job that finds no free slot is deferred by its handler.
 */
export function redisDeliverySlots(redis: Redis, limits: DeliverySlotLimits): DeliverySlots {
  const options = {
    lockTimeout: limits.holdMs,
    // An attempt ends within its timeout, so no refresh is needed; one try, no waiting.
    refreshInterval: 0,
    acquireAttemptsLimit: 1,
  }
  const key = (kind: string, id: string) =>
    `${limits.prefix ?? 'groundwork'}:webhook-slots:${kind}:${id}`
  return {
    async acquire(organizationId, endpointId) {
      const organization = new Semaphore(
        redis,
        key('org', organizationId),
        limits.perOrganization,
        options,
      )
      if (!(await organization.tryAcquire())) return null
      const endpoint = new Semaphore(
        redis,
        key('endpoint', endpointId),
        limits.perEndpoint,
        options,
      )
      if (!(await endpoint.tryAcquire().catch(() => false))) {
        await organization.release()
        return null
      }
      return async () => {
        await Promise.allSettled([endpoint.release(), organization.release()])
      }
    },
  }
}
