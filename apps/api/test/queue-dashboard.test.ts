import { startGatedPort } from '@repo/testing'
import { describe, expect, it } from 'vitest'
import { buildTestServer, signUpOwner, useApiServer } from './helpers.ts'

// The queue dashboard (bull-board) mounted at /admin/queues: platform operators only,
// through a Bearer token or the single-use link that opens a cookie session; every
// refusal is our problem+json, never the library's 500.
const { server, sql, services } = useApiServer()

async function operator() {
  const admin = await signUpOwner(server)
  await sql('UPDATE users SET platform_admin = true WHERE id = $1', [admin.userId])
  return admin
}

/** The button of the link's page: a form POST with the ticket. */
const redeem = (ticket: string) =>
  server.inject({
    method: 'POST',
    url: '/admin/queues/enter',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    payload: new URLSearchParams({ ticket }).toString(),
  })

/** A full (Bearer) session token put where the dashboard's cookie goes. */
const fullSessionCookie = (headers: Record<string, string>) =>
  `gw_queue_dashboard=${(headers.authorization ?? '').replace('Bearer ', '')}`

/** Opens the dashboard through a link, as a browser would; returns the cookie header. */
async function enterWithLink(headers: Record<string, string>) {
  const link = await server.inject({
    method: 'POST',
    url: '/v1/admin/queue-dashboard/links',
    headers,
  })
  expect(link.statusCode).toBe(201)
  const url = new URL(link.json().url)
  const page = await server.inject({ url: `${url.pathname}${url.search}` })
  const ticket = url.searchParams.get('ticket') ?? ''
  const entered = await redeem(ticket)
  return { link, url, page, ticket, entered }
}

const expectProblem = (
  res: { statusCode: number; headers: Record<string, unknown>; body: string },
  status: number,
) => {
  expect(res.statusCode).toBe(status)
  expect(res.headers['content-type']).toContain('application/problem+json')
  expect(res.body).not.toMatch(/at .*\.(ts|js):\d+/)
}

describe('the queue dashboard', () => {
  it('answers 401 without credentials and 403 to users who are not platform operators', async () => {
    for (const url of ['/admin/queues/', '/admin/queues/api/queues', '/admin/queues/queue/email']) {
      expectProblem(await server.inject({ url }), 401)
    }
    const { headers } = await signUpOwner(server)
    expectProblem(await server.inject({ url: '/admin/queues/', headers }), 403)
    expectProblem(await server.inject({ url: '/admin/queues/api/queues', headers }), 403)
    expectProblem(
      await server.inject({ method: 'PUT', url: '/admin/queues/api/queues/email/pause', headers }),
      403,
    )
    expectProblem(
      await server.inject({ method: 'POST', url: '/v1/admin/queue-dashboard/links', headers }),
      403,
    )
  })

  it('shows every queue to an operator, the dead-letter queue read-only', async () => {
    const { headers } = await operator()
    const page = await server.inject({ url: '/admin/queues/', headers })
    expect(page.statusCode).toBe(200)
    expect(page.headers['content-type']).toContain('text/html')
    expect(page.body).toContain('<base href="/admin/queues/" />')
    expect(page.body).toContain('<title>Groundwork queues</title>')
    const api = await server.inject({ url: '/admin/queues/api/queues', headers })
    expect(api.statusCode).toBe(200)
    const queues = api.json().queues as { name: string; readOnlyMode: boolean }[]
    expect(queues.map((q) => q.name).sort()).toEqual(
      ['dead-letter', 'default', 'email', 'maintenance', 'webhook-deliveries', 'webhooks'].sort(),
    )
    expect(queues.find((q) => q.name === 'dead-letter')?.readOnlyMode).toBe(true)
    expect(queues.find((q) => q.name === 'email')?.readOnlyMode).toBe(false)
    const asset = await server.inject({ url: '/admin/queues/static/images/logo.svg', headers })
    expect(asset.statusCode).toBe(200)
  })

  it('opens in a browser through a single-use link: a cookie session for the dashboard only', async () => {
    const { headers, userId } = await operator()
    const { link, url, page, ticket, entered } = await enterWithLink(headers)
    expect(url.origin).toBe('http://127.0.0.1:4000')
    expect(url.pathname).toBe('/admin/queues/enter')
    expect(Date.parse(link.json().expiresAt) - Date.now()).toBeLessThanOrEqual(60_000)
    // The link's page redeems nothing (link previewers fetch it first): a button posts.
    expect(page.statusCode).toBe(200)
    expect(page.headers['cache-control']).toBe('no-store')
    expect(page.headers['set-cookie']).toBeUndefined()
    expect(page.body).toContain('<form method="post" action="/admin/queues/enter">')
    expect(page.body).toContain(`value="${ticket}"`)
    expect(entered.statusCode).toBe(303)
    expect(entered.headers.location).toBe('/admin/queues/')
    const setCookie = String(entered.headers['set-cookie'])
    expect(setCookie).toMatch(/^gw_queue_dashboard=[^;]+;/)
    expect(setCookie).toContain('Path=/admin/queues')
    expect(setCookie).toContain('HttpOnly')
    expect(setCookie).toContain('SameSite=Strict')
    expect(setCookie).toContain('Max-Age=3600')
    const cookie = setCookie.split(';')[0] as string

    const api = await server.inject({ url: '/admin/queues/api/queues', headers: { cookie } })
    expect(api.statusCode).toBe(200)
    // The cookie opens the dashboard and nothing else: not as a cookie elsewhere, and its
    // session is no Bearer token (it could otherwise mint links forever).
    expectProblem(await server.inject({ url: '/v1/auth/me', headers: { cookie } }), 401)
    const bearer = { authorization: `Bearer ${cookie.split('=')[1]}` }
    expectProblem(await server.inject({ url: '/v1/auth/me', headers: bearer }), 401)
    expectProblem(
      await server.inject({
        method: 'POST',
        url: '/v1/admin/queue-dashboard/links',
        headers: bearer,
      }),
      401,
    )
    expectProblem(await server.inject({ url: '/admin/queues/api/queues', headers: bearer }), 401)
    // And a full session in the dashboard's cookie is no dashboard session either.
    const full = fullSessionCookie(headers)
    expectProblem(
      await server.inject({ url: '/admin/queues/api/queues', headers: { cookie: full } }),
      401,
    )
    // The link works once; forged and missing tickets open nothing.
    expectProblem(await redeem(ticket), 401)
    // A well-formed ticket that was never issued opens nothing; any other text is a 400.
    expectProblem(await redeem('A'.repeat(43)), 401)
    expectProblem(await redeem('forged-ticket-of-some-length'), 400)
    expectProblem(await server.inject({ method: 'POST', url: '/admin/queues/enter' }), 400)
    expectProblem(await server.inject({ url: '/admin/queues/enter' }), 400)
    const hostile = await server.inject({
      url: `/admin/queues/enter?ticket=${encodeURIComponent('"><script>alert(1)</script>xxxxxxx')}`,
    })
    expectProblem(hostile, 400)
    expect(hostile.body).not.toContain('<script>')

    // The user sees it among their sessions, for what it is.
    const sessions = await server.inject({ url: '/v1/auth/sessions', headers })
    expect(
      sessions
        .json()
        .data.map((s: { scope: string }) => s.scope)
        .sort(),
    ).toEqual(['full', 'queue_dashboard'])

    // Access is checked on every request: an operator demoted loses the dashboard at once.
    await sql('UPDATE users SET platform_admin = false WHERE id = $1', [userId])
    expectProblem(
      await server.inject({ url: '/admin/queues/api/queues', headers: { cookie } }),
      403,
    )

    const audit = (await sql(
      `SELECT action FROM audit_logs WHERE actor_user_id = $1 AND action LIKE 'queue_dashboard.%'
       ORDER BY created_at`,
      [userId],
    )) as { action: string }[]
    expect(audit.map((a) => a.action)).toEqual([
      'queue_dashboard.link_created',
      'queue_dashboard.opened',
    ])
  })

  it('shows job data with single-use links redacted', async () => {
    const { headers } = await operator()
    const { Queue } = await import('bullmq')
    const queue = new Queue('email', { connection: { url: services().redis.url } })
    try {
      const job = await queue.add(
        'email.send',
        {
          v: 1,
          payload: {
            template: 'password-reset',
            to: 'victim@example.com',
            name: 'Victim',
            url: 'https://app.example.com/reset-password?token=SECRET123&x=1',
          },
          context: {},
        },
        { delay: 60_000 },
      )
      const res = await server.inject({ url: `/admin/queues/api/queues/email/${job.id}`, headers })
      expect(res.statusCode).toBe(200)
      expect(res.body).not.toContain('SECRET123')
      expect(res.json().job.data.payload.url).toBe(
        'https://app.example.com/reset-password?token=[redacted]&x=1',
      )
      const list = await server.inject({
        url: '/admin/queues/api/queues?activeQueue=email&status=delayed',
        headers,
      })
      expect(list.statusCode).toBe(200)
      expect(list.body).not.toContain('SECRET123')
      await job.remove()
    } finally {
      await queue.close()
    }
  })

  it('records every change an operator makes through it in the audit log', async () => {
    const { headers, userId } = await operator()
    const paused = await server.inject({
      method: 'PUT',
      url: '/admin/queues/api/queues/maintenance/pause',
      headers,
    })
    expect(paused.statusCode).toBe(200)
    await server.inject({
      method: 'PUT',
      url: '/admin/queues/api/queues/maintenance/resume',
      headers,
    })
    // The dead-letter queue is read-only here: replays go through the audited admin API.
    const emptied = await server.inject({
      method: 'PUT',
      url: '/admin/queues/api/queues/dead-letter/empty',
      headers,
    })
    expect(emptied.statusCode).toBeGreaterThanOrEqual(400)
    expect(emptied.statusCode).toBeLessThan(500)
    const changes = async () =>
      (await sql(
        `SELECT action, metadata FROM audit_logs WHERE actor_user_id = $1 AND action = 'queue_dashboard.changed'
         ORDER BY created_at`,
        [userId],
      )) as { action: string; metadata: { method: string; path: string; status: number } }[]
    // Written once each answer has gone out.
    await expect.poll(async () => (await changes()).length).toBe(3)
    const audit = await changes()
    expect(
      audit.map((a) => [a.metadata.method, a.metadata.path, a.metadata.status]).sort(),
    ).toEqual(
      [
        ['PUT', '/admin/queues/api/queues/maintenance/pause', 200],
        ['PUT', '/admin/queues/api/queues/maintenance/resume', 200],
        ['PUT', '/admin/queues/api/queues/dead-letter/empty', emptied.statusCode],
      ].sort(),
    )
  })

  it("needs a recent sign-in for a link and for Bearer use; a demoted operator's link opens nothing", async () => {
    const { headers, userId } = await operator()
    const link = await server.inject({
      method: 'POST',
      url: '/v1/admin/queue-dashboard/links',
      headers,
    })
    await sql('UPDATE users SET platform_admin = false WHERE id = $1', [userId])
    const url = new URL(link.json().url)
    expectProblem(await redeem(url.searchParams.get('ticket') ?? ''), 403)

    await sql('UPDATE users SET platform_admin = true WHERE id = $1', [userId])
    await sql(`UPDATE sessions SET created_at = now() - interval '1 hour' WHERE user_id = $1`, [
      userId,
    ])
    const stale = await server.inject({
      method: 'POST',
      url: '/v1/admin/queue-dashboard/links',
      headers,
    })
    expectProblem(stale, 403)
    expect(stale.json().type).toBe('urn:groundwork:problem:step_up_required')
    // The same old Bearer session cannot use the board directly either.
    const direct = await server.inject({ url: '/admin/queues/api/queues', headers })
    expectProblem(direct, 403)
    expect(direct.json().type).toBe('urn:groundwork:problem:step_up_required')
  })
})

describe('the queue dashboard in production', () => {
  it('sets its cookie Secure (and not in development or tests)', async () => {
    const admin = await operator()
    expect(String((await enterWithLink(admin.headers)).entered.headers['set-cookie'])).not.toMatch(
      /;\s*Secure/i,
    )
    const production = await buildTestServer({
      NODE_ENV: 'production',
      DATABASE_URL: services().database.appUrl,
      REDIS_URL: services().redis.url,
      MFA_ENCRYPTION_KEY: Buffer.alloc(32, 9).toString('base64'),
      API_PUBLIC_URL: 'https://api.example.com',
      APP_URL: 'https://app.example.com',
      TRUST_PROXY: 'loopback',
    })
    try {
      const link = await production.inject({
        method: 'POST',
        url: '/v1/admin/queue-dashboard/links',
        headers: admin.headers,
      })
      expect(link.statusCode).toBe(201)
      const ticket = new URL(link.json().url).searchParams.get('ticket') ?? ''
      const entered = await production.inject({
        method: 'POST',
        url: '/admin/queues/enter',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        payload: new URLSearchParams({ ticket }).toString(),
      })
      expect(entered.statusCode).toBe(303)
      const setCookie = String(entered.headers['set-cookie'])
      expect(setCookie).toMatch(/^gw_queue_dashboard=[^;]+;/)
      expect(setCookie).toMatch(/;\s*Secure(;|$)/)
      expect(setCookie).toContain('HttpOnly')
    } finally {
      await production.close()
    }
  })
})

describe('the queue dashboard while Redis is down', () => {
  it('answers 503 problem+json promptly instead of hanging or failing with 500', async () => {
    const admin = await operator()
    // Redis's port, held shut: every connection is reset.
    const redisPort = await startGatedPort()
    const down = await buildTestServer({
      DATABASE_URL: services().database.appUrl,
      REDIS_URL: `redis://127.0.0.1:${redisPort.port}`,
      REDIS_CONNECT_TIMEOUT_MS: '300',
    })
    try {
      for (const url of ['/admin/queues/api/queues', '/admin/queues/api/redis/stats']) {
        const started = Date.now()
        const res = await down.inject({ url, headers: admin.headers })
        expect(Date.now() - started, url).toBeLessThan(5_000)
        expectProblem(res, 503)
        expect(res.headers['retry-after']).toBeDefined()
      }
      // The page itself needs no Redis.
      expect(
        (await down.inject({ url: '/admin/queues/', headers: admin.headers })).statusCode,
      ).toBe(200)
    } finally {
      await down.close()
      await redisPort.close()
    }
  })
})
