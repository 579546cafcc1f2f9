import type { Page } from 'playwright-core'
import { expect } from 'vitest'
import type { Stack } from './harness/index.ts'

export const PASSWORD = 'correct horse battery staple'

let counter = 0
/** An address nobody else in this test file uses. */
export function uniqueEmail(prefix: string): string {
  counter += 1
  return `${prefix}-${counter}-${Date.now().toString(36)}@example.com`
}

/** A user made through the API (not the subject of the test), verified unless told not to. */
export async function createUser(
  stack: Stack,
  options: { email?: string; name?: string; verified?: boolean } = {},
): Promise<{ id: string; email: string; name: string; token: string }> {
  const email = options.email ?? uniqueEmail('user')
  const name = options.name ?? email.split('@')[0] ?? 'User'
  const response = await stack.api.inject({
    method: 'POST',
    url: '/v1/auth/sign-up',
    payload: { email, password: PASSWORD, name },
  })
  expect(response.statusCode, response.body).toBe(201)
  const { token, user } = response.json() as { token: string; user: { id: string } }
  if (options.verified !== false)
    await stack.sql('UPDATE users SET email_verified_at = now() WHERE id = $1', [user.id])
  return { id: user.id, email, name, token }
}

/** An organization owned by the token's user, made through the API. */
export async function createOrganization(stack: Stack, token: string, name: string) {
  const response = await stack.api.inject({
    method: 'POST',
    url: '/v1/orgs',
    headers: { authorization: `Bearer ${token}` },
    payload: { name },
  })
  expect(response.statusCode, response.body).toBe(201)
  return response.json() as { id: string; name: string }
}

/** Signs in through the sign-in page, as a person would. */
export async function signIn(page: Page, stack: Stack, email: string, password = PASSWORD) {
  if (!page.url().includes('/sign-in')) await page.goto(`${stack.webUrl}/sign-in`)
  await page.getByLabel('Email').fill(email)
  await page.getByLabel('Password').fill(password)
  await page.getByRole('button', { name: 'Sign in' }).click()
  await page.waitForURL((url) => !url.pathname.startsWith('/sign-in'))
}
