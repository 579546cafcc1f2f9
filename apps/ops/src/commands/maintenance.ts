import {
  endMaintenance,
  InvalidMaintenanceState,
  MAX_MAINTENANCE_MS,
  type MaintenanceWindow,
  readMaintenance,
  secondsLeft,
  startMaintenance,
} from '@repo/core'
import type { OpsContext } from '../context.ts'
import { opsEnv, readEnv } from '../env.ts'
import { EXIT, OpsError } from '../errors.ts'

/** `90s`, `45m`, `2h`, `1h30m`: a window's length. */
export function parseDuration(text: string): number {
  const match = /^(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$/.exec(text.trim())
  const ms = match
    ? (Number(match[1] ?? 0) * 3_600 + Number(match[2] ?? 0) * 60 + Number(match[3] ?? 0)) * 1_000
    : 0
  if (!match || ms <= 0 || ms > MAX_MAINTENANCE_MS)
    throw new OpsError(
      EXIT.usage,
      `--for takes a length up to 24h, like 30m, 2h or 1h30m (not "${text}").`,
    )
  return ms
}

const describe = (window: MaintenanceWindow) =>
  `on since ${window.since} until ${window.until} (${Math.ceil(secondsLeft(window) / 60)} min left), by ${window.operator}: "${window.message}"`

function refreshNote(ctx: OpsContext) {
  const { MAINTENANCE_REFRESH_MS } = readEnv(opsEnv.maintenance, ctx.env)
  return `Every API instance sees it within ${MAINTENANCE_REFRESH_MS / 1000} s (MAINTENANCE_REFRESH_MS).`
}

/** `maintenance on`: every state-changing request answers 503 with the message until the end. */
export async function maintenanceOn(
  ctx: OpsContext,
  options: { message?: string | undefined; for?: string | undefined },
) {
  const actor = ctx.operator()
  const durationMs = options.for === undefined ? undefined : parseDuration(options.for)
  const message = options.message?.trim()
  if (message !== undefined && (message.length === 0 || message.length > 500))
    throw new OpsError(EXIT.usage, '--message takes 1 to 500 characters.')
  const db = await ctx.db()
  const redis = await ctx.redis()
  const open = await readMaintenance(redis).catch((error) => {
    if (error instanceof InvalidMaintenanceState) return null
    throw error
  })
  if (open && durationMs === undefined && message === undefined) {
    ctx.out(`Already done: maintenance mode is ${describe(open)}.`)
    return
  }
  if (!open)
    await ctx.confirm(
      'Put the product in read-only maintenance mode? Every change anyone tries (sign-ins included) is refused until it ends.',
    )
  const result = await startMaintenance({ db, redis }, actor, { message, durationMs })
  ctx.out(
    `Maintenance mode ${describe(result.window)}. Audit log: ${result.started ? 'maintenance.started' : 'maintenance.changed'} by ${actor.operator}.`,
  )
  ctx.out(refreshNote(ctx))
}

/** `maintenance off`: writes are accepted again. */
export async function maintenanceOff(ctx: OpsContext) {
  const actor = ctx.operator()
  const db = await ctx.db()
  const redis = await ctx.redis()
  const ended = await endMaintenance({ db, redis }, actor)
  if (!ended) {
    ctx.out('Already done: maintenance mode is off.')
    return
  }
  ctx.out(
    `Maintenance mode off (it was on since ${ended.since}, by ${ended.operator}). Audit log: maintenance.ended by ${actor.operator}.`,
  )
  ctx.out(refreshNote(ctx))
}

/** `maintenance status`. */
export async function maintenanceStatus(ctx: OpsContext) {
  const redis = await ctx.redis()
  try {
    const open = await readMaintenance(redis)
    ctx.out(open ? `Maintenance mode is ${describe(open)}.` : 'Maintenance mode is off.')
  } catch (error) {
    if (!(error instanceof InvalidMaintenanceState)) throw error
    throw new OpsError(
      EXIT.failed,
      `${error.message}. API instances keep the last window they read until its end; \`ops maintenance off\` clears the value.`,
    )
  }
}
