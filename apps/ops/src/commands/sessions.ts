import { type AccessChanges, findUser, redisAccessChanges, revokeUserSessions } from '@repo/core'
import type { OpsContext } from '../context.ts'

/** `sessions revoke <user>`: signs a user out everywhere (a lost device, a taken account). */
export async function revokeSessions(ctx: OpsContext, who: string) {
  const actor = ctx.operator()
  const db = await ctx.db()
  const user = await findUser({ db }, who)
  const open = await db.session.count({ where: { userId: user.id } })
  if (open === 0) {
    ctx.out(`Already done: ${user.email} has no sessions.`)
    return
  }
  await ctx.confirm(
    `Sign ${user.email} (${user.name}) out everywhere: ${open} session(s) end now, and every device asks them to sign in again.`,
    user.email,
  )
  const { revoked } = await revokeUserSessions(
    { db, accessChanges: await accessChanges(ctx) },
    actor,
    { userId: user.id },
  )
  if (revoked === 0) {
    ctx.out(`Already done: ${user.email} has no sessions.`)
    return
  }
  ctx.out(
    `Revoked ${revoked} session(s) of ${user.email}. Audit log: session.revoked_all by ${actor.operator}.`,
  )
}

/**
 * Announces the revocation to every API instance, which drops its cached copy of the
 * sessions at once (ADR 035). Revoking must still work while Redis is down: the sessions
 * end in Postgres either way, and an instance that cannot hear announcements does not
 * serve sessions from memory; one that can will have dropped them within its cache lifetime.
 */
async function accessChanges(ctx: OpsContext): Promise<AccessChanges> {
  const redis = await ctx.redis().catch((error: unknown) => {
    ctx.warn(
      `Warning: ${error instanceof Error ? error.message.replace(' Nothing was changed.', '') : String(error)} The revocation goes ahead; API instances forget the sessions within ACCESS_CACHE_TTL_MS.`,
    )
    return undefined
  })
  if (!redis) return { publish: async () => {} }
  return redisAccessChanges({
    redis,
    logger: { warn: (_details, message) => ctx.warn(`Warning: ${message}`) },
  })
}
