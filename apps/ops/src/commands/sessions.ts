import { findUser, revokeUserSessions } from '@repo/core'
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
  const { revoked } = await revokeUserSessions({ db }, actor, { userId: user.id })
  if (revoked === 0) {
    ctx.out(`Already done: ${user.email} has no sessions.`)
    return
  }
  ctx.out(
    `Revoked ${revoked} session(s) of ${user.email}. Audit log: session.revoked_all by ${actor.operator}.`,
  )
}
