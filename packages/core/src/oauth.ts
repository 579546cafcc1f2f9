import { createSession, generateSecret, hashSecret, type OAuthProvider } from '@repo/auth'
import { Prisma, withNoContext, withUser } from '@repo/db'
import { z } from 'zod'
import { announceAccessChange } from './access-changes.ts'
import { AppError, errors } from './app-error.ts'
import { recordAudit } from './audit.ts'
import type { CoreDeps, RequestMeta } from './context.ts'
import { hasMfa, startMfaChallenge } from './mfa.ts'
import { rememberOwnerNetwork } from './sign-in-throttle.ts'

const STATE_TTL_MS = 10 * 60_000

/** What we accept from a provider's profile; anything else is a failed sign-in, not a 500. */
const oauthProfileSchema = z.object({
  providerAccountId: z.string().min(1).max(255),
  email: z.string().trim().max(254).pipe(z.email()),
  emailVerified: z.boolean(),
  name: z.string().max(1000).catch(''),
})

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
  // Binds the flow to the client that started it (the web app keeps it in a cookie), so a
  // callback carrying someone else's code and state is refused (login CSRF).
  const binding = generateSecret()
  await deps.redis.set(
    `groundwork:oauth:${hashSecret(state)}`,
    JSON.stringify({ provider: provider.name, codeVerifier, binding: hashSecret(binding) }),
    'PX',
    STATE_TTL_MS,
  )
  return { authorizationUrl: provider.authorizationUrl(state, codeVerifier).toString(), binding }
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
  input: { provider: string; code: string; state: string; binding: string },
  meta: RequestMeta = {},
) {
  const provider = providerOf(deps, input.provider)
  const key = `groundwork:oauth:${hashSecret(input.state)}`
  // GETDEL: one callback consumes the state, even when two race.
  const stored = await deps.redis.getdel(key)
  if (!stored) throw invalidState()
  const {
    provider: expected,
    codeVerifier,
    binding,
  } = JSON.parse(stored) as {
    provider: string
    codeVerifier: string
    binding: string
  }
  if (expected !== provider.name || binding !== hashSecret(input.binding)) throw invalidState()

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
  const parsed = oauthProfileSchema.safeParse(profile)
  if (!parsed.success) {
    deps.logger.warn(
      { provider: provider.name, issues: parsed.error.issues.map((i) => i.path.join('.')) },
      'OAuth profile unusable',
    )
    throw new AppError({
      code: 'oauth_failed',
      status: 400,
      userMessage: `${provider.name} did not share a usable email address.`,
    })
  }
  const email = parsed.data.email.toLowerCase()
  const name =
    parsed.data.name
      // biome-ignore lint/suspicious/noControlCharactersInRegex: stripping control characters is the point
      .replace(/[\u0000-\u001f\u007f]/g, '')
      .trim()
      .slice(0, 100) ||
    email.split('@')[0] ||
    email

  // No user context yet: who this is is what the transaction finds out.
  const { userId, signedUp, accountReset } = await withNoContext(deps.db, async (tx) => {
    const linked = await tx.oAuthAccount.findUnique({
      where: {
        provider_providerAccountId: {
          provider: provider.name,
          providerAccountId: profile.providerAccountId,
        },
      },
    })
    if (linked) return { userId: linked.userId, signedUp: false, accountReset: false }
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
        data: { email, name, emailVerifiedAt: new Date() },
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
    return {
      userId: user.id,
      signedUp: !existing,
      accountReset: Boolean(existing && !existing.emailVerifiedAt),
    }
  }).catch((error: unknown) => {
    // Two callbacks for one new account at once: the loser retries as a sign-in.
    if (error instanceof Prisma.PrismaClientKnownRequestError && error.code === 'P2002')
      throw invalidState()
    throw error
  })
  // An unproven account's sessions just ended: every instance forgets them now.
  if (accountReset) await announceAccessChange(deps, { userIds: [userId] })

  // Past this, the account has no confirmed factor.
  if (await hasMfa(deps, userId))
    return { mfaRequired: true as const, mfaToken: await startMfaChallenge(deps, userId) }
  const user = await deps.db.user.findUniqueOrThrow({ where: { id: userId } })
  // The session and its audit entry commit together.
  const { token } = await withUser(deps.db, userId, async (tx) => {
    const created = await createSession(tx, deps.sessionPolicy, userId, meta)
    await recordAudit(tx, {
      action: 'user.signed_in',
      actorUserId: userId,
      targetType: 'session',
      targetId: created.session.id,
      ipAddress: meta.ipAddress,
      metadata: { provider: provider.name },
    })
    return created
  })
  await rememberOwnerNetwork(deps, user.email, meta)
  // signedUp: this callback created the account (the product's sign-up moment).
  return { mfaRequired: false as const, user: { ...user, mfaEnabled: false }, token, signedUp }
}
