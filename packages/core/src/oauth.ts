import { createSession, generateSecret, hashSecret, type OAuthProvider } from '@repo/auth'
import { Prisma } from '@repo/db'
import { AppError, errors } from './app-error.ts'
import { recordAudit } from './audit.ts'
import type { CoreDeps, RequestMeta } from './context.ts'
import { hasMfa, startMfaChallenge } from './mfa.ts'

const STATE_TTL_MS = 10 * 60_000

export type OAuthProviderName = OAuthProvider['name']

function providerOf(deps: CoreDeps, name: string): OAuthProvider {
  const provider = deps.oauthProviders[name as OAuthProviderName]
  if (!provider) throw errors.notFound(`Sign-in with ${name}`)
  return provider
}

/**
 * Starts an OAuth sign-in: a random state and a PKCE verifier, kept in Redis for ten
 * minutes (single use), and the provider URL to send the browser to.
 */
export async function startOAuth(deps: CoreDeps, input: { provider: string }) {
  const provider = providerOf(deps, input.provider)
  const state = generateSecret()
  const codeVerifier = generateSecret()
  await deps.redis.set(
    `groundwork:oauth:${hashSecret(state)}`,
    JSON.stringify({ provider: provider.name, codeVerifier }),
    'PX',
    STATE_TTL_MS,
  )
  return { authorizationUrl: provider.authorizationUrl(state, codeVerifier).toString() }
}

const invalidState = () =>
  new AppError({
    code: 'invalid_oauth_state',
    status: 400,
    userMessage: 'This sign-in attempt expired or was already used. Start again.',
  })

/**
 * Finishes an OAuth sign-in. The state must be the one we issued, for this provider, and
 * unused. Then: a known provider account signs its user in; otherwise an account with the
 * same email is linked, but only when the provider says it verified that email; otherwise
 * a new account is created. Linking to an account whose own email was never verified
 * also clears its password and sessions: whoever set that password never proved the
 * address, and must not keep a way in (pre-account-takeover).
 */
export async function finishOAuth(
  deps: CoreDeps,
  input: { provider: string; code: string; state: string },
  meta: RequestMeta = {},
) {
  const provider = providerOf(deps, input.provider)
  const key = `groundwork:oauth:${hashSecret(input.state)}`
  const stored = await deps.redis.get(key)
  await deps.redis.del(key)
  if (!stored) throw invalidState()
  const { provider: expected, codeVerifier } = JSON.parse(stored) as {
    provider: string
    codeVerifier: string
  }
  if (expected !== provider.name) throw invalidState()

  let profile: Awaited<ReturnType<OAuthProvider['profile']>>
  try {
    profile = await provider.profile(input.code, codeVerifier)
  } catch (error) {
    deps.logger.warn({ err: error, provider: provider.name }, 'OAuth exchange failed')
    throw new AppError({
      code: 'oauth_failed',
      status: 400,
      userMessage: `Sign-in with ${provider.name} did not complete. Try again.`,
    })
  }
  const email = profile.email.trim().toLowerCase()

  const userId = await deps.db
    .$transaction(async (tx) => {
      const linked = await tx.oAuthAccount.findUnique({
        where: {
          provider_providerAccountId: {
            provider: provider.name,
            providerAccountId: profile.providerAccountId,
          },
        },
      })
      if (linked) return linked.userId
      if (!profile.emailVerified) {
        throw new AppError({
          code: 'oauth_email_unverified',
          status: 400,
          userMessage: `Verify your email address at ${provider.name} first.`,
        })
      }
      const existing = await tx.user.findUnique({ where: { email } })
      const user =
        existing ??
        (await tx.user.create({
          data: { email, name: profile.name.slice(0, 100) || email, emailVerifiedAt: new Date() },
        }))
      if (existing && !existing.emailVerifiedAt) {
        await tx.user.update({
          where: { id: existing.id },
          data: { emailVerifiedAt: new Date(), passwordHash: null },
        })
        await tx.session.deleteMany({ where: { userId: existing.id } })
        // Nor may any second factor or recovery code that was set up before the proof.
        await tx.recoveryCode.deleteMany({ where: { userId: existing.id } })
        await tx.mfaFactor.deleteMany({ where: { userId: existing.id } })
      }
      await tx.oAuthAccount.create({
        data: {
          userId: user.id,
          provider: provider.name,
          providerAccountId: profile.providerAccountId,
        },
      })
      await recordAudit(tx, {
        action: existing ? 'oauth.linked' : 'user.signed_up',
        actorUserId: user.id,
        targetType: 'user',
        targetId: user.id,
        ipAddress: meta.ipAddress,
        metadata: { provider: provider.name },
      })
      return user.id
    })
    .catch((error: unknown) => {
      // Two callbacks for one new account at once: the loser retries as a sign-in.
      if (error instanceof Prisma.PrismaClientKnownRequestError && error.code === 'P2002')
        throw invalidState()
      throw error
    })

  if (await hasMfa(deps, userId))
    return { mfaRequired: true as const, mfaToken: await startMfaChallenge(deps, userId) }
  const user = await deps.db.user.findUniqueOrThrow({ where: { id: userId } })
  const { token, session } = await createSession(deps.db, deps.sessionPolicy, userId, meta)
  await recordAudit(deps.db, {
    action: 'user.signed_in',
    actorUserId: userId,
    targetType: 'session',
    targetId: session.id,
    ipAddress: meta.ipAddress,
    metadata: { provider: provider.name },
  })
  return { mfaRequired: false as const, user, token }
}
