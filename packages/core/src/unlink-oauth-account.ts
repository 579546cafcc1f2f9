import { withUser } from '@repo/db'
import type { OAuthProvider } from '@repo/schemas'
import { errors } from './app-error.ts'
import { recordAudit } from './audit.ts'
import type { CoreDeps, RequestMeta } from './context.ts'

/**
 * Disconnects a provider from the caller's account (every link of it). Refused (409) when
 * it would leave no way to sign in: no password, and no other provider that is still
 * configured (a link to a disabled provider opens nothing).
 */
export async function unlinkOAuthAccount(
  deps: CoreDeps,
  input: { userId: string; provider: OAuthProvider },
  meta: RequestMeta = {},
) {
  const name = deps.oauthProviders[input.provider]?.displayName ?? input.provider
  await withUser(deps.db, input.userId, async (tx) => {
    // The account row stays locked until commit: two unlinks at once (GitHub here, Google
    // in another tab) must not each count the other as the way left in.
    const [account] = await tx.$queryRaw<{ hasPassword: boolean }[]>`
      SELECT password_hash IS NOT NULL AS "hasPassword" FROM users
      WHERE id = ${input.userId}::uuid FOR UPDATE`
    const linked = await tx.oAuthAccount.findMany({
      where: { userId: input.userId },
      select: { provider: true },
    })
    if (!linked.some((link) => link.provider === input.provider))
      throw errors.notFound(`A connected ${name} account`)
    const otherWayIn = linked.some(
      (link) => link.provider !== input.provider && link.provider in deps.oauthProviders,
    )
    if (!account?.hasPassword && !otherWayIn)
      throw errors.conflict(
        'last_sign_in_method',
        `${name} is your only way to sign in: set a password (by a password reset email) or connect another provider first.`,
      )
    const { count } = await tx.oAuthAccount.deleteMany({
      where: { userId: input.userId, provider: input.provider },
    })
    await recordAudit(tx, {
      action: 'oauth.unlinked',
      actorUserId: input.userId,
      targetType: 'user',
      targetId: input.userId,
      ipAddress: meta.ipAddress,
      metadata: { provider: input.provider, links: count },
    })
  })
}
