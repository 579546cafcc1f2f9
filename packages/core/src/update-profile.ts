import { withUser } from '@repo/db'
import { announceAccessChange } from './access-changes.ts'
import { recordAudit } from './audit.ts'
import type { CoreDeps, RequestMeta } from './context.ts'
import { type Account, getAccount } from './get-account.ts'

/** Changes the caller's own profile (their display name, already trimmed by its schema). */
export async function updateProfile(
  deps: CoreDeps,
  input: { userId: string; name: string },
  meta: RequestMeta = {},
): Promise<Account> {
  const user = await withUser(deps.db, input.userId, async (tx) => {
    const updated = await tx.user.update({
      where: { id: input.userId },
      data: { name: input.name },
    })
    // That it changed, not to what: a name is personal data, and this log is append-only
    // (only its retention ever deletes from it).
    await recordAudit(tx, {
      action: 'user.profile_updated',
      actorUserId: input.userId,
      targetType: 'user',
      targetId: input.userId,
      ipAddress: meta.ipAddress,
      metadata: { fields: ['name'] },
    })
    return updated
  })
  await announceAccessChange(deps, { userIds: [input.userId] })
  return getAccount(deps, user)
}
