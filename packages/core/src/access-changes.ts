/**
 * Who may do what changed: a session ended, a password or second factor changed, a role
 * was changed or a member removed, an organization is being deleted. API instances keep
 * sessions and memberships in memory for a few seconds (ADR 035); each such change is
 * published, after its transaction commits, so every instance drops what it kept of those
 * users and organizations at once instead of when its copy expires.
 */
export interface AccessChange {
  /** Users whose sessions, account or memberships changed. */
  userIds?: readonly string[]
  /** Organizations whose memberships all changed (deletion asked for). */
  organizationIds?: readonly string[]
}

/** Where committed access changes are announced (Redis pub/sub in every process). */
export interface AccessChanges {
  publish(change: AccessChange): Promise<void>
}

/**
 * The Redis channel API instances hear access changes on: one per Redis database, as the
 * instances' keys are. Pub/sub is server-wide, not per database, so deployments (or test
 * runs) sharing one Redis server on different databases would otherwise hear each other's
 * changes: each would drop what it kept, and a lookup that races one does not store.
 */
export function accessChangesChannel(redis: { options: { db?: number } }): string {
  return `groundwork:access-changes:${redis.options.db ?? 0}`
}

/** How long a publish may hold the answer of the request that made the change. */
const PUBLISH_TIMEOUT_MS = 250

/** The one message format on accessChangesChannel (short keys: it is sent often). */
export function encodeAccessChange(change: AccessChange): string {
  return JSON.stringify({ u: change.userIds ?? [], o: change.organizationIds ?? [] })
}

const ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i
const ids = (value: unknown) =>
  Array.isArray(value) && value.every((id) => typeof id === 'string' && ID.test(id))
    ? (value as string[])
    : undefined

/**
 * A message from the channel, or undefined when it is not one of ours (anyone with access
 * to Redis can publish: a malformed message is ignored, never trusted to mean "nothing").
 */
export function decodeAccessChange(message: string): Required<AccessChange> | undefined {
  let parsed: unknown
  try {
    parsed = JSON.parse(message)
  } catch {
    return undefined
  }
  if (!parsed || typeof parsed !== 'object') return undefined
  const userIds = ids((parsed as { u?: unknown }).u)
  const organizationIds = ids((parsed as { o?: unknown }).o)
  return userIds && organizationIds ? { userIds, organizationIds } : undefined
}

/**
 * Publishes access changes on Redis: `onLocal` runs first, synchronously (the process that
 * made the change forgets at once, whatever Redis does). A publish that fails or takes
 * longer than 250 ms is logged and given up: the change is committed, and every other
 * instance's copy expires within its cache lifetime anyway.
 */
export function redisAccessChanges(options: {
  redis: { publish(channel: string, message: string): Promise<number>; options: { db?: number } }
  logger: { warn(details: object, message: string): void }
  onLocal?: (change: AccessChange) => void
}): AccessChanges {
  const channel = accessChangesChannel(options.redis)
  return {
    async publish(change) {
      if (!change.userIds?.length && !change.organizationIds?.length) return
      options.onLocal?.(change)
      let timer: NodeJS.Timeout | undefined
      try {
        await Promise.race([
          options.redis.publish(channel, encodeAccessChange(change)),
          new Promise((_, reject) => {
            timer = setTimeout(
              () => reject(new Error(`no answer from Redis within ${PUBLISH_TIMEOUT_MS} ms`)),
              PUBLISH_TIMEOUT_MS,
            )
          }),
        ])
      } catch (err) {
        options.logger.warn(
          { err, change },
          'access change not published: other instances forget it when their copy expires',
        )
      } finally {
        clearTimeout(timer)
      }
    },
  }
}

/** Announces a committed access change (after the transaction, never inside it). */
export function announceAccessChange(
  deps: { accessChanges: AccessChanges },
  change: AccessChange,
): Promise<void> {
  return deps.accessChanges.publish(change)
}
