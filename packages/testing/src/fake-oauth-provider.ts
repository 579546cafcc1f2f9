import { createHash, randomBytes } from 'node:crypto'
import { createServer, type IncomingMessage } from 'node:http'
import type { AddressInfo } from 'node:net'

export interface FakeOAuthUser {
  id: string
  email: string
  emailVerified: boolean
  name: string
}

export interface FakeOAuthProvider {
  baseUrl: string
  clientId: string
  clientSecret: string
  /** Who "signs in" at the provider next. */
  setUser(user: FakeOAuthUser): void
  /** What the browser would do at the provider: follow the authorization URL, return the code. */
  authorize(authorizationUrl: string): Promise<{ code: string; state: string }>
  tokenRequests: number
  close(): Promise<void>
}

const base64url = (buffer: Buffer) => buffer.toString('base64url')

async function body(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = []
  for await (const chunk of req) chunks.push(chunk as Buffer)
  return Buffer.concat(chunks).toString('utf8')
}

/**
 * A loopback OAuth 2.0 provider with PKCE (S256) that speaks enough of GitHub's and
 * Google's APIs for the real client code to run against it: /authorize, /token, /user,
 * /user/emails (GitHub) and /userinfo (Google). It checks the client secret, the redirect
 * URI and the code verifier, and each code works once.
 */
export async function startFakeOAuthProvider(): Promise<FakeOAuthProvider> {
  const clientId = 'fake-client'
  const clientSecret = randomBytes(8).toString('hex')
  let user: FakeOAuthUser = {
    id: '1',
    email: 'someone@example.com',
    emailVerified: true,
    name: 'Someone',
  }
  const codes = new Map<string, { challenge: string; redirectUri: string; user: FakeOAuthUser }>()
  const tokens = new Map<string, FakeOAuthUser>()
  let tokenRequests = 0

  const server = createServer(async (req, res) => {
    const url = new URL(req.url ?? '/', 'http://localhost')
    const json = (status: number, payload: unknown) =>
      res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(payload))
    if (url.pathname === '/authorize') {
      const challenge = url.searchParams.get('code_challenge')
      if (
        url.searchParams.get('client_id') !== clientId ||
        url.searchParams.get('code_challenge_method') !== 'S256' ||
        !challenge
      ) {
        return json(400, { error: 'invalid_request' })
      }
      const code = randomBytes(12).toString('hex')
      codes.set(code, { challenge, redirectUri: url.searchParams.get('redirect_uri') ?? '', user })
      const back = new URL(url.searchParams.get('redirect_uri') ?? '')
      back.searchParams.set('code', code)
      back.searchParams.set('state', url.searchParams.get('state') ?? '')
      return res.writeHead(302, { location: back.toString() }).end()
    }
    if (url.pathname === '/token' && req.method === 'POST') {
      tokenRequests++
      const form = new URLSearchParams(await body(req))
      const basic = req.headers.authorization?.startsWith('Basic ')
        ? Buffer.from(req.headers.authorization.slice(6), 'base64').toString().split(':')
        : [form.get('client_id'), form.get('client_secret')]
      const grant = codes.get(form.get('code') ?? '')
      codes.delete(form.get('code') ?? '')
      const verifier = form.get('code_verifier') ?? ''
      if (
        basic[0] !== clientId ||
        basic[1] !== clientSecret ||
        !grant ||
        grant.redirectUri !== form.get('redirect_uri') ||
        base64url(createHash('sha256').update(verifier).digest()) !== grant.challenge
      ) {
        return json(400, { error: 'invalid_grant' })
      }
      const accessToken = randomBytes(16).toString('hex')
      tokens.set(accessToken, grant.user)
      return json(200, { access_token: accessToken, token_type: 'bearer' })
    }
    const who = tokens.get(req.headers.authorization?.replace(/^Bearer /, '') ?? '')
    if (!who) return json(401, { message: 'Bad credentials' })
    if (url.pathname === '/user')
      return json(200, { id: Number(who.id), login: who.email.split('@')[0], name: who.name })
    if (url.pathname === '/user/emails')
      return json(200, [{ email: who.email, primary: true, verified: who.emailVerified }])
    if (url.pathname === '/userinfo')
      return json(200, {
        sub: who.id,
        email: who.email,
        email_verified: who.emailVerified,
        name: who.name,
      })
    return json(404, { message: 'Not Found' })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  return {
    baseUrl,
    clientId,
    clientSecret,
    get tokenRequests() {
      return tokenRequests
    },
    setUser: (next) => {
      user = next
    },
    async authorize(authorizationUrl) {
      const res = await fetch(authorizationUrl, { redirect: 'manual' })
      const location = new URL(res.headers.get('location') ?? '')
      return {
        code: location.searchParams.get('code') ?? '',
        state: location.searchParams.get('state') ?? '',
      }
    },
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      }),
  }
}

/** The API's environment for signing in with GitHub and Google, both against `provider`. */
export function fakeOAuthEnv(provider: FakeOAuthProvider): Record<string, string> {
  const p = provider.baseUrl
  return {
    GITHUB_CLIENT_ID: provider.clientId,
    GITHUB_CLIENT_SECRET: provider.clientSecret,
    GITHUB_AUTHORIZE_URL: `${p}/authorize`,
    GITHUB_TOKEN_URL: `${p}/token`,
    GITHUB_API_URL: p,
    GOOGLE_CLIENT_ID: provider.clientId,
    GOOGLE_CLIENT_SECRET: provider.clientSecret,
    GOOGLE_AUTHORIZE_URL: `${p}/authorize`,
    GOOGLE_TOKEN_URL: `${p}/token`,
    GOOGLE_USERINFO_URL: `${p}/userinfo`,
  }
}
