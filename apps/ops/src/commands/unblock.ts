import { isIP } from 'node:net'
import { clearLockouts, clientNetwork, findUser } from '@repo/core'
import type { OpsContext } from '../context.ts'
import { opsEnv, readEnv } from '../env.ts'
import { EXIT, OpsError } from '../errors.ts'

/** The network the API counts `address` as (an IPv6 address counts as its /64, by default). */
function networkOf(ctx: OpsContext, address: string): string {
  if (isIP(address) === 0)
    throw new OpsError(
      EXIT.usage,
      `${address} is not an IP address (e.g. 203.0.113.7 or 2001:db8::1).`,
    )
  return clientNetwork(address, readEnv(opsEnv.limits, ctx.env).RATE_LIMIT_IPV6_PREFIX)
}

const IN_MEMORY_NOTE =
  'An API instance that saw far more requests than a limit also refuses them from memory for up to a minute; that passes by itself.'

/**
 * `unblock user <user> [--ip <address>]` and `unblock ip <address>`: clears the counters
 * that refuse a person now (sign-in throttles, second-factor backoff, resend and reset
 * counters, rate limits), so a locked-out user gets in at once.
 */
export async function unblock(
  ctx: OpsContext,
  target: { user?: string | undefined; address?: string | undefined },
) {
  const actor = ctx.operator()
  const network = target.address === undefined ? undefined : networkOf(ctx, target.address)
  const db = await ctx.db()
  const redis = await ctx.redis()
  const user = target.user === undefined ? undefined : await findUser({ db }, target.user)
  const who = [user?.email, network].filter(Boolean).join(' from ')
  const { cleared } = await clearLockouts({ db, redis }, actor, {
    user: user ? { id: user.id, email: user.email } : undefined,
    network,
  })
  if (cleared.length === 0) {
    ctx.out(`Already done: nothing holds ${who} back.`)
    return
  }
  ctx.out(
    `Cleared for ${who}: ${cleared.join('; ')}. Audit log: lockouts.cleared by ${actor.operator}.`,
  )
  ctx.out(IN_MEMORY_NOTE)
}
