import type { User } from '@repo/db'
import type { CoreDeps } from './context.ts'
import { hasMfa } from './mfa.ts'

/** A user as they see themselves: the row, and whether a confirmed second factor guards it. */
export type Account = User & { mfaEnabled: boolean }

/**
 * The account of a user row already at hand (the session check loads it). The factor is
 * read here, on the routes that show it, rather than joined into every session check:
 * most authenticated requests never need it.
 */
export async function getAccount(deps: CoreDeps, user: User): Promise<Account> {
  return { ...user, mfaEnabled: await hasMfa(deps, user.id) }
}
