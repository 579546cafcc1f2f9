import { OAUTH_PROVIDERS, type OAuthProvider } from '@repo/schemas'
import type { CoreDeps } from './context.ts'

const isKnownProvider = (name: string): name is OAuthProvider =>
  (OAUTH_PROVIDERS as readonly string[]).includes(name)

/**
 * The providers the user can sign in with, one entry each, with when the first link was
 * made (two accounts of one provider can end up linked through the same verified email).
 * Neither the provider's account id nor anything it gave us leaves this function: the
 * page needs to know which buttons to show, not whose GitHub account it is.
 */
export async function listOAuthAccounts(deps: CoreDeps, input: { userId: string }) {
  const groups = await deps.db.oAuthAccount.groupBy({
    by: ['provider'],
    where: { userId: input.userId },
    _min: { createdAt: true },
    orderBy: { provider: 'asc' },
  })
  return groups.flatMap(({ provider, _min }) =>
    isKnownProvider(provider) && _min.createdAt ? [{ provider, connectedAt: _min.createdAt }] : [],
  )
}
