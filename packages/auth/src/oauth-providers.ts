import { CodeChallengeMethod, OAuth2Client } from 'arctic'
import pTimeout from 'p-timeout'

/** What a provider tells us about the person signing in. */
export interface OAuthProfile {
  providerAccountId: string
  email: string
  /** Only a verified email may match (and so link to) an existing account. */
  emailVerified: boolean
  name: string
}

export interface OAuthProvider {
  name: 'github' | 'google'
  /** How the sign-in page names it. */
  displayName: string
  authorizationUrl(state: string, codeVerifier: string): URL
  /** Exchanges the code (with the PKCE verifier) and fetches the profile. */
  profile(code: string, codeVerifier: string): Promise<OAuthProfile>
}

export interface OAuthProviderConfig {
  clientId: string
  clientSecret: string
  redirectUri: string
  authorizeUrl: string
  tokenUrl: string
  /** GitHub: API base URL. Google: the OpenID userinfo endpoint. */
  apiUrl: string
  timeoutMs: number
}

async function getJson<T>(url: string, accessToken: string, timeoutMs: number): Promise<T> {
  const res = await fetch(url, {
    headers: {
      authorization: `Bearer ${accessToken}`,
      accept: 'application/json',
      'user-agent': 'groundwork',
    },
    signal: AbortSignal.timeout(timeoutMs),
  })
  if (!res.ok) throw new Error(`${url} answered ${res.status}`)
  return (await res.json()) as T
}

/** GitHub (arctic's OAuth2 client, endpoints from config so tests can use a local fake). */
export function githubProvider(config: OAuthProviderConfig): OAuthProvider {
  const client = new OAuth2Client(config.clientId, config.clientSecret, config.redirectUri)
  return {
    name: 'github',
    displayName: 'GitHub',
    authorizationUrl: (state, verifier) =>
      client.createAuthorizationURLWithPKCE(
        config.authorizeUrl,
        state,
        CodeChallengeMethod.S256,
        verifier,
        ['read:user', 'user:email'],
      ),
    async profile(code, verifier) {
      const tokens = await pTimeout(
        client.validateAuthorizationCode(config.tokenUrl, code, verifier),
        {
          milliseconds: config.timeoutMs,
          message: `GitHub token exchange timed out after ${config.timeoutMs} ms`,
        },
      )
      const token = tokens.accessToken()
      const user = await getJson<{ id: number; login: string; name: string | null }>(
        `${config.apiUrl}/user`,
        token,
        config.timeoutMs,
      )
      const emails = await getJson<Array<{ email: string; primary: boolean; verified: boolean }>>(
        `${config.apiUrl}/user/emails`,
        token,
        config.timeoutMs,
      )
      const primary = emails.find((e) => e.primary) ?? emails[0]
      if (!primary) throw new Error('GitHub returned no email address')
      return {
        providerAccountId: String(user.id),
        email: primary.email,
        emailVerified: primary.verified,
        name: user.name ?? user.login,
      }
    },
  }
}

/** Google (OpenID Connect userinfo for the profile). */
export function googleProvider(config: OAuthProviderConfig): OAuthProvider {
  const client = new OAuth2Client(config.clientId, config.clientSecret, config.redirectUri)
  return {
    name: 'google',
    displayName: 'Google',
    authorizationUrl: (state, verifier) =>
      client.createAuthorizationURLWithPKCE(
        config.authorizeUrl,
        state,
        CodeChallengeMethod.S256,
        verifier,
        ['openid', 'email', 'profile'],
      ),
    async profile(code, verifier) {
      const tokens = await pTimeout(
        client.validateAuthorizationCode(config.tokenUrl, code, verifier),
        {
          milliseconds: config.timeoutMs,
          message: `Google token exchange timed out after ${config.timeoutMs} ms`,
        },
      )
      const info = await getJson<{
        sub: string
        email: string
        email_verified: boolean
        name?: string
      }>(config.apiUrl, tokens.accessToken(), config.timeoutMs)
      return {
        providerAccountId: info.sub,
        email: info.email,
        emailVerified: info.email_verified === true,
        name: info.name ?? info.email,
      }
    },
  }
}
