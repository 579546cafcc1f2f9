import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import type { Browser, Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  launchBrowser,
  newContext,
  type Stack,
  startedTogether,
  startStack,
  stopTogether,
} from './harness/index.ts'
import { createOrganization, createUser, PASSWORD, signIn } from './helpers.ts'

// The backend-for-frontend's promises, against the real stack in a real browser: the
// token never reaches the page, forged and origin-less mutations are refused, a return
// path cannot leave the site, an ended session goes back to sign-in.
let stack: Stack
let browser: Browser
let evil: Server
let evilUrl = ''

beforeAll(async () => {
  ;[stack, browser] = await startedTogether(startStack({ worker: false }), launchBrowser())
  // Another site: its page posts a form to the web app, as a forged request would.
  evil = createServer((request, response) => {
    const target = new URL(request.url ?? '/', 'http://x').searchParams.get('html') ?? ''
    response.writeHead(200, { 'content-type': 'text/html' }).end(target)
  })
  await new Promise<void>((resolve) => evil.listen(0, '127.0.0.1', resolve))
  // localhost, not 127.0.0.1: another site to the browser.
  evilUrl = `http://localhost:${(evil.address() as AddressInfo).port}`
})
afterAll(async () => {
  await stopTogether(stack, browser)
  if (evil) await new Promise((resolve) => evil.close(resolve))
})

const sessionsOf = async (userId: string) =>
  Number((await stack.sql('SELECT count(*) AS n FROM sessions WHERE user_id = $1', [userId]))[0]?.n)

/** The sign-in action's id, read from the request the real form sends. */
async function signInActionId(page: Page, email: string): Promise<string> {
  await page.goto(`${stack.webUrl}/sign-in`)
  // The answer, not only the request: it must not be taken for a later request's answer.
  const answered = page.waitForResponse(
    (r) => r.request().method() === 'POST' && !!r.request().headers()['next-action'],
  )
  await page.getByLabel('Email').fill(email)
  await page.getByLabel('Password').fill('not the password')
  await page.getByRole('button', { name: 'Sign in' }).click()
  return (await answered).request().headers()['next-action'] as string
}

describe('the session in the browser', { shuffle: false, timeout: 60_000 }, () => {
  it('is an HttpOnly, SameSite=Lax cookie that no script and no response body carries', async () => {
    const user = await createUser(stack)
    const context = await newContext(browser)
    const page = await context.newPage()
    const bodies: Promise<string | undefined>[] = []
    // Every body is read before the check below; redirects have none (their read fails).
    page.on('response', (response) => bodies.push(response.text().catch(() => undefined)))
    await signIn(page, stack, user.email)
    await page.goto(`${stack.webUrl}/account/security`)
    const [cookie] = (await context.cookies()).filter((c) => c.name.includes('session'))
    expect(cookie).toMatchObject({ name: 'groundwork_session', httpOnly: true, sameSite: 'Lax' })
    const token = cookie?.value as string
    expect(token.length).toBeGreaterThan(20)
    expect(await page.evaluate(() => document.cookie)).not.toContain(token)
    const storage = await page.evaluate(() =>
      JSON.stringify({ ...localStorage, ...sessionStorage }),
    )
    expect(storage).not.toContain(token)
    expect(await page.content()).not.toContain(token)
    const read = (await Promise.all(bodies)).filter((body) => body !== undefined)
    expect(read.length).toBeGreaterThan(3)
    for (const body of read) expect(body).not.toContain(token)
    await context.close()
  })

  it('refuses a sign-in form posted from another site (login CSRF)', async () => {
    const user = await createUser(stack)
    const context = await newContext(browser)
    const page = await context.newPage()
    const actionId = await signInActionId(page, user.email)
    const before = await sessionsOf(user.id)
    const form = `<!doctype html><html lang="en"><title>x</title><form id="f" method="POST" action="${stack.webUrl}/sign-in" enctype="multipart/form-data">
      <input name="$ACTION_ID_${actionId}" value=""><input name="email" value="${user.email}">
      <input name="password" value="${PASSWORD}"></form><script>document.getElementById('f').submit()</script>`
    const posted = page.waitForResponse(
      (r) => r.url().startsWith(`${stack.webUrl}/sign-in`) && r.request().method() === 'POST',
    )
    await page.goto(`${evilUrl}/?html=${encodeURIComponent(form)}`)
    const response = await posted
    expect((await response.request().allHeaders()).origin).toBe(evilUrl)
    expect(response.headers()['set-cookie'] ?? '').not.toContain('groundwork_session')
    expect((await context.cookies()).some((c) => c.name === 'groundwork_session')).toBe(false)
    expect(await sessionsOf(user.id)).toBe(before)
    await context.close()
  })

  it('refuses a Server Action without an Origin, and accepts the same one from the site', async () => {
    const user = await createUser(stack)
    const context = await newContext(browser)
    const actionId = await signInActionId(await context.newPage(), user.email)
    await context.close()
    const call = (headers: Record<string, string>) =>
      fetch(`${stack.webUrl}/sign-in`, {
        method: 'POST',
        redirect: 'manual',
        headers: {
          'next-action': actionId,
          'content-type': 'text/plain;charset=UTF-8',
          accept: 'text/x-component',
          ...headers,
        },
        body: JSON.stringify([{ email: user.email, password: PASSWORD }]),
      })
    const before = await sessionsOf(user.id)
    const bare = await call({})
    expect(bare.headers.get('set-cookie') ?? '').not.toContain('groundwork_session')
    expect(await bare.text()).toContain('cross_site_request')
    expect(await sessionsOf(user.id)).toBe(before)
    const foreign = await call({ origin: evilUrl })
    expect(foreign.headers.get('set-cookie') ?? '').not.toContain('groundwork_session')
    expect(await sessionsOf(user.id)).toBe(before)
    // The control: the same request from the site's own origin signs in.
    const own = await call({ origin: stack.webUrl })
    expect(own.headers.get('set-cookie') ?? '').toContain('groundwork_session=')
    expect(await sessionsOf(user.id)).toBe(before + 1)
  })

  it.each([
    '//evil.example/orgs',
    'https://evil.example/orgs',
    '/\\evil.example',
    'javascript:alert(1)',
  ])('stays on the site after sign-in with the return path %s', async (next) => {
    const user = await createUser(stack)
    const context = await newContext(browser)
    const page = await context.newPage()
    await page.goto(`${stack.webUrl}/sign-in?next=${encodeURIComponent(next)}`)
    await signIn(page, stack, user.email)
    expect(new URL(page.url()).origin).toBe(stack.webUrl)
    expect(new URL(page.url()).pathname).toMatch(/^\/orgs/)
    await context.close()
  })

  it('sends an ended session to sign-in and back to the page it was on', async () => {
    const user = await createUser(stack)
    const org = await createOrganization(stack, user.token, 'Return Co')
    const context = await newContext(browser)
    const page = await context.newPage()
    await signIn(page, stack, user.email)
    const target = `/orgs/${org.id}/projects?status=active`
    await page.goto(`${stack.webUrl}${target}`)
    await page.getByRole('heading', { name: 'Projects' }).waitFor()
    await stack.sql('DELETE FROM sessions WHERE user_id = $1', [user.id])
    await page.reload()
    await page.waitForURL(/\/sign-in/)
    const url = new URL(page.url())
    expect(url.searchParams.get('next')).toBe(target)
    expect(url.searchParams.get('reason')).toBe('expired')
    await page.getByText('Your session has ended').waitFor()
    await signIn(page, stack, user.email)
    expect(page.url()).toBe(`${stack.webUrl}${target}`)
    await context.close()
  })

  it('records the address the connection came from, not one the client wrote', async () => {
    const user = await createUser(stack)
    const context = await newContext(browser, {
      extraHTTPHeaders: { 'x-forwarded-for': '6.6.6.6' },
    })
    const page = await context.newPage()
    await signIn(page, stack, user.email)
    const rows = await stack.sql(
      'SELECT ip_address FROM sessions WHERE user_id = $1 ORDER BY created_at DESC LIMIT 1',
      [user.id],
    )
    expect(rows[0]?.ip_address).toBe('127.0.0.1')
    await context.close()
  })
})

describe('security headers', () => {
  it('sends a nonce CSP without inline scripts, HSTS, no framing and tight policies', async () => {
    const response = await fetch(`${stack.webUrl}/sign-in`)
    const csp = response.headers.get('content-security-policy') ?? ''
    const scriptSrc = csp.split(';').find((d) => d.trim().startsWith('script-src')) ?? ''
    expect(scriptSrc).toMatch(/'nonce-[A-Za-z0-9+/=]+'/)
    expect(scriptSrc).not.toContain('unsafe-inline')
    expect(scriptSrc).not.toContain('unsafe-eval')
    expect(csp).toContain("frame-ancestors 'none'")
    expect(csp).toContain("object-src 'none'")
    expect(csp).toContain("form-action 'self'")
    expect(response.headers.get('strict-transport-security')).toContain('max-age=')
    expect(response.headers.get('x-frame-options')).toBe('DENY')
    expect(response.headers.get('x-content-type-options')).toBe('nosniff')
    expect(response.headers.get('referrer-policy')).toBe('same-origin')
    expect(response.headers.get('permissions-policy')).toContain('camera=()')
    // Every inline script on the page carries this response's nonce.
    const nonce = /'nonce-([^']+)'/.exec(scriptSrc)?.[1]
    const html = await response.text()
    const scripts = [...html.matchAll(/<script(?![^>]*\bsrc=)([^>]*)>/g)]
    expect(scripts.length).toBeGreaterThan(0)
    for (const [, attributes] of scripts) expect(attributes).toContain(`nonce="${nonce}"`)
  })

  it('gives each request its own nonce', async () => {
    const nonce = async () =>
      /'nonce-([^']+)'/.exec(
        (await fetch(`${stack.webUrl}/sign-in`)).headers.get('content-security-policy') ?? '',
      )?.[1]
    expect(await nonce()).not.toBe(await nonce())
  })
})
