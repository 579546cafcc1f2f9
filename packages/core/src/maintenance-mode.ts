import { withNoContext } from '@repo/db'
import { z } from 'zod'
import type { OperatorActor } from './actor.ts'
import { recordAudit } from './audit.ts'
import type { CoreDeps } from './context.ts'
import type { ThrottleStore } from './sign-in-throttle.ts'

/**
 * Read-only maintenance mode (docs/decisions/025): while a window is open, the API answers
 * every state-changing request with 503 and the window's message; reads keep working. The
 * window lives in Redis, not Postgres, so it holds while the database is what is being
 * worked on (a restore, a failover); it expires by itself at its end.
 */
export const MAINTENANCE_KEY = 'groundwork:maintenance'

export const DEFAULT_MAINTENANCE_MESSAGE =
  'The service is under maintenance: changes cannot be saved right now. Reading still works. Try again shortly.'

/** How long a window lasts unless the operator says: long enough, never forgotten forever. */
export const DEFAULT_MAINTENANCE_MS = 60 * 60_000
export const MAX_MAINTENANCE_MS = 24 * 60 * 60_000

const windowSchema = z.object({
  message: z.string().min(1).max(500),
  since: z.iso.datetime(),
  until: z.iso.datetime(),
  operator: z.string().min(1).max(100),
})
export type MaintenanceWindow = z.infer<typeof windowSchema>

/** The stored value is not a window (written by hand?): reported, never guessed at. */
export class InvalidMaintenanceState extends Error {
  override name = 'InvalidMaintenanceState'
}

type Store = Pick<ThrottleStore, 'get' | 'set' | 'del'>

/** The open window, or null. A window past its end is over, even before Redis expires it. */
export async function readMaintenance(
  redis: Pick<ThrottleStore, 'get'>,
  now = Date.now(),
): Promise<MaintenanceWindow | null> {
  const raw = await redis.get(MAINTENANCE_KEY)
  if (raw === null) return null
  let parsed: unknown
  try {
    parsed = JSON.parse(raw)
  } catch {
    parsed = undefined
  }
  const window = windowSchema.safeParse(parsed)
  if (!window.success)
    throw new InvalidMaintenanceState(
      `${MAINTENANCE_KEY} holds no maintenance window: ${raw.slice(0, 100)}`,
    )
  return Date.parse(window.data.until) > now ? window.data : null
}

/** Seconds until the window ends, at least 1: the Retry-After of refused writes. */
export const secondsLeft = (window: MaintenanceWindow, now = Date.now()) =>
  Math.max(1, Math.ceil((Date.parse(window.until) - now) / 1000))

/**
 * Opens a window (or changes the open one) for an operator. Unset `message` and
 * `durationMs` mean "as it is": with a window open, nothing changes and `changed` is
 * false; without one, the defaults apply. A change keeps `since` and restarts the
 * duration from now. The Redis write runs inside the audit entry's transaction, so with
 * Postgres down nothing changes unrecorded.
 */
export async function startMaintenance(
  deps: Pick<CoreDeps, 'db'> & { redis: Store },
  actor: OperatorActor,
  input: { message?: string | undefined; durationMs?: number | undefined },
  now = Date.now(),
): Promise<{ window: MaintenanceWindow; changed: boolean; started: boolean }> {
  const durationMs = input.durationMs ?? DEFAULT_MAINTENANCE_MS
  if (!(durationMs > 0 && durationMs <= MAX_MAINTENANCE_MS))
    throw new RangeError('a maintenance window lasts more than 0 and at most 24 hours')
  const open = await readMaintenance(deps.redis, now).catch((error) => {
    // A value that is not a window is replaced, like a closed one.
    if (error instanceof InvalidMaintenanceState) return null
    throw error
  })
  if (open && input.message === undefined && input.durationMs === undefined)
    return { window: open, changed: false, started: false }
  const window = windowSchema.parse({
    message: input.message?.trim() || open?.message || DEFAULT_MAINTENANCE_MESSAGE,
    since: open?.since ?? new Date(now).toISOString(),
    until: new Date(now + durationMs).toISOString(),
    operator: actor.operator,
  })
  await withNoContext(deps.db, async (tx) => {
    await recordAudit(tx, {
      action: open ? 'maintenance.changed' : 'maintenance.started',
      actorOperator: actor.operator,
      targetType: 'maintenance',
      metadata: { message: window.message, since: window.since, until: window.until },
    })
    await deps.redis.set(MAINTENANCE_KEY, JSON.stringify(window), 'PX', durationMs)
  })
  return { window, changed: true, started: !open }
}

/** Closes the open window. Returns it, or null when none was open (nothing recorded). */
export async function endMaintenance(
  deps: Pick<CoreDeps, 'db'> & { redis: Store },
  actor: OperatorActor,
  now = Date.now(),
): Promise<MaintenanceWindow | null> {
  const open = await readMaintenance(deps.redis, now).catch((error) => {
    if (error instanceof InvalidMaintenanceState) return null
    throw error
  })
  if (!open) {
    // Whatever is left (a window past its end, a value that is none) goes too.
    await deps.redis.del(MAINTENANCE_KEY)
    return null
  }
  await withNoContext(deps.db, async (tx) => {
    await recordAudit(tx, {
      action: 'maintenance.ended',
      actorOperator: actor.operator,
      targetType: 'maintenance',
      metadata: { message: open.message, since: open.since, until: open.until },
    })
    await deps.redis.del(MAINTENANCE_KEY)
  })
  return open
}
