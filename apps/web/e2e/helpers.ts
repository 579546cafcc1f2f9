import { createServer, type IncomingHttpHeaders } from 'node:http'
import type { AddressInfo } from 'node:net'
import type { Page } from 'playwright-core'
import { expect } from 'vitest'
import { linkIn, type Stack, waitForEmail } from './harness/index.ts'

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

type Method = 'GET' | 'POST' | 'PATCH' | 'DELETE'

/**
 * One API call as the token's user, for what a test sets up rather than clicks through;
 * fails naming the answer unless it is `expected` (201 for a POST, else 200).
 */
export async function callAs<T = Record<string, unknown>>(
  stack: Stack,
  token: string,
  method: Method,
  url: string,
  payload?: Record<string, unknown>,
  expected = method === 'POST' ? 201 : 200,
): Promise<T> {
  const response = await stack.api.inject({
    method,
    url,
    headers: { authorization: `Bearer ${token}` },
    ...(payload ? { payload } : {}),
  })
  expect(response.statusCode, `${method} ${url}: ${response.body}`).toBe(expected)
  return (response.body ? response.json() : undefined) as T
}

/**
 * Makes `user` a member of the organization the way it happens in the product: invited by
 * the owner, the email's token accepted with the user's own session (needs the worker).
 */
export async function joinByInvitation(
  stack: Stack,
  ownerToken: string,
  orgId: string,
  user: { email: string; token: string },
  role: 'owner' | 'admin' | 'member' = 'member',
): Promise<void> {
  await callAs(stack, ownerToken, 'POST', `/v1/orgs/${orgId}/invitations`, {
    email: user.email,
    role,
  })
  const email = await waitForEmail(stack.smtp, { to: user.email, subject: 'invited' })
  const token = new URL(linkIn(email, stack.webUrl)).searchParams.get('token')
  await callAs(stack, user.token, 'POST', '/v1/invitations/accept', { token }, 200)
}

/** A receiver for webhook deliveries on loopback: answers every POST 200 and counts them. */
export async function startWebhookReceiver(): Promise<{
  url: string
  received: () => number
  /** Each delivery as it arrived: its headers and raw body, to verify the signature. */
  requests: { headers: IncomingHttpHeaders; body: string }[]
  close: () => Promise<void>
}> {
  const requests: { headers: IncomingHttpHeaders; body: string }[] = []
  const server = createServer((request, response) => {
    let body = ''
    request.on('data', (chunk) => (body += chunk))
    request.on('end', () => {
      requests.push({ headers: request.headers, body })
      response.writeHead(200).end('ok')
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  return {
    url: `http://127.0.0.1:${port}`,
    received: () => requests.length,
    requests,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  }
}

/** Platform operators reach the dead letters and the queue dashboard; only the database grants it. */
export async function makeOperator(stack: Stack, userId: string): Promise<void> {
  await stack.sql('UPDATE users SET platform_admin = true WHERE id = $1', [userId])
}

/**
 * The API's job producers (its queues plugin declares them on Fastify, in a module this
 * package's types do not load): the dead-letter queue is where the worker files a job.
 */
interface ApiWithQueues {
  queues: {
    deadLetters: { add(name: string, entry: object, options: { jobId: string }): Promise<unknown> }
  }
}

/**
 * A job that failed every attempt, filed under `id` as the worker files it: `entry` names
 * its queue, job id, name, data, error and attempts.
 */
export async function fileDeadLetter(
  stack: Stack,
  id: string,
  entry: { queue: string; jobId: string; name: string; data: object } & Record<string, unknown>,
): Promise<void> {
  await (stack.api as unknown as ApiWithQueues).queues.deadLetters.add(entry.name, entry, {
    jobId: id,
  })
}
