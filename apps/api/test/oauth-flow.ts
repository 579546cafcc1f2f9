import { type FakeOAuthProvider, startFakeOAuthProvider } from '@repo/testing'
import type { FastifyInstance } from 'fastify'
import { afterAll, beforeAll, expect } from 'vitest'

export type OAuthFlow = { code: string; state: string; binding: string }

/** The web app the API sends the browser back to: servers here run with this APP_URL. */
export const APP_URL = 'https://app.example.com'

/**
 * A sign-in with a provider as the web app's server plays it: start, the browser's trip
 * to the (fake) provider, callback. `tamper` changes what reaches the callback.
 */
export async function oauthSignIn(
  app: FastifyInstance,
  provider: FakeOAuthProvider,
  name: 'github' | 'google',
  tamper: (flow: OAuthFlow) => object = (f) => f,
) {
  const start = await app.inject({ method: 'POST', url: `/v1/auth/oauth/${name}/start` })
  expect(start.statusCode).toBe(200)
  const authorizationUrl = new URL(start.json().authorizationUrl)
  expect(authorizationUrl.searchParams.get('code_challenge_method')).toBe('S256')
  expect(authorizationUrl.searchParams.get('redirect_uri')).toBe(
    `${APP_URL}/auth/oauth/${name}/callback`,
  )
  const flow = {
    ...(await provider.authorize(authorizationUrl.toString())),
    binding: start.json().binding as string,
  }
  return app.inject({
    method: 'POST',
    url: `/v1/auth/oauth/${name}/callback`,
    payload: tamper(flow),
  })
}

/**
 * A test file's fake provider, started in a beforeAll hook. Call it before useApiServer,
 * whose server then reads the provider's address: `useApiServer(() => fakeOAuthEnv(provider()))`.
 */
export function useFakeOAuthProvider(): () => FakeOAuthProvider {
  let provider: FakeOAuthProvider | undefined
  beforeAll(async () => {
    provider = await startFakeOAuthProvider()
  })
  afterAll(() => provider?.close())
  return () => {
    if (!provider) throw new Error('the fake provider starts in beforeAll; use it inside tests')
    return provider
  }
}
