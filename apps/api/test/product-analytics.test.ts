import { generateSecret, hashSecret } from '@repo/auth'
import {
  fakeOAuthEnv,
  type SinkRequest,
  startTelemetrySink,
  type TelemetrySink,
  useIsolatedServices,
} from '@repo/testing'
import type { FastifyInstance } from 'fastify'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildTestServer, ownerQuery } from './helpers.ts'
import { APP_URL, oauthSignIn, useFakeOAuthProvider } from './oauth-flow.ts'

// The product's key moments reach PostHog (a loopback sink) from the real routes, for the
// user who made them and grouped under the organization, with no email or name in them;
// and the sign-up kill switch answers promptly with its default when PostHog is down or slow.
const provider = useFakeOAuthProvider()
const services = useIsolatedServices()
const password = 'correct horse battery staple'
const sinks: TelemetrySink[] = []

async function sink(options: Parameters<typeof startTelemetrySink>[0] = {}) {
  const started = await startTelemetrySink(options)
  sinks.push(started)
  return started
}
afterAll(async () => {
  await Promise.all(sinks.map((s) => s.close()))
})

async function server(env: Record<string, string>) {
  const { database, redis } = services()
  return buildTestServer({ DATABASE_URL: database.appUrl, REDIS_URL: redis.url, ...env })
}

const sql = (query: string, values: unknown[] = []) =>
  ownerQuery(services().database.url, query, values)

/** Every event PostHog received, in order, from the batches the sink holds. */
function capturedEvents(from: TelemetrySink) {
  return from.requests
    .filter((r) => r.path.startsWith('/batch'))
    .flatMap((r) => (JSON.parse(r.body) as { batch: Array<Record<string, unknown>> }).batch)
}

async function signUp(app: FastifyInstance, email: string, name: string) {
  const res = await app.inject({
    method: 'POST',
    url: '/v1/auth/sign-up',
    payload: { email, password, name },
  })
  expect(res.statusCode, res.body).toBe(201)
  return { headers: { authorization: `Bearer ${res.json().token}` }, id: res.json().user.id }
}

/** Confirms the user's address with a link token stored as the emailed one would be. */
async function verify(app: FastifyInstance, userId: string) {
  const token = generateSecret()
  await sql(
    `INSERT INTO email_verifications (id, user_id, email, token_hash, expires_at)
     SELECT gen_random_uuid(), id, email, $2, now() + interval '1 hour' FROM users WHERE id = $1`,
    [userId, hashSecret(token)],
  )
  const res = await app.inject({ method: 'POST', url: '/v1/auth/verify-email', payload: { token } })
  expect(res.statusCode, res.body).toBe(200)
}

describe('key moments', () => {
  let posthog: TelemetrySink
  let owner: { id: string }
  let invitee: { id: string }
  let orgId: string

  beforeAll(async () => {
    posthog = await sink()
    const app = await server({ POSTHOG_KEY: 'phc_moments', POSTHOG_HOST: posthog.posthogHost })
    try {
      const signedUp = await signUp(app, 'olive.owner@example.com', 'Olive Owner')
      owner = signedUp
      await verify(app, owner.id)
      const org = await app.inject({
        method: 'POST',
        url: '/v1/orgs',
        headers: signedUp.headers,
        payload: { name: 'Olive Orchards' },
      })
      orgId = org.json().id
      const calls = [
        ['projects', { name: 'Harvest' }],
        ['api-keys', { name: 'CI', scopes: ['projects:read'] }],
        ['invitations', { email: 'ivy.invitee@example.com', role: 'member' }],
      ] as const
      for (const [path, payload] of calls) {
        const res = await app.inject({
          method: 'POST',
          url: `/v1/orgs/${orgId}/${path}`,
          headers: signedUp.headers,
          payload,
        })
        expect(res.statusCode, res.body).toBe(201)
      }
      const joining = await signUp(app, 'ivy.invitee@example.com', 'Ivy Invitee')
      invitee = joining
      await verify(app, invitee.id)
      // The emailed token is not ours to read: store a known one on the invitation.
      const token = generateSecret()
      await sql('UPDATE invitations SET token_hash = $1 WHERE organization_id = $2', [
        hashSecret(token),
        orgId,
      ])
      const accepted = await app.inject({
        method: 'POST',
        url: '/v1/invitations/accept',
        headers: joining.headers,
        payload: { token },
      })
      expect(accepted.statusCode, accepted.body).toBe(200)
      // A refused change is not a moment: a second organization with an invalid name.
      const refused = await app.inject({
        method: 'POST',
        url: '/v1/orgs',
        headers: signedUp.headers,
        payload: { name: '' },
      })
      expect(refused.statusCode).toBe(400)
    } finally {
      await app.close() // flushes the queued events
    }
  })

  it('sends each moment for the user who made it, grouped under the organization', async () => {
    await expect
      .poll(() => capturedEvents(posthog).filter((e) => e.event === 'member_joined').length)
      .toBe(1)
    const moments = capturedEvents(posthog)
      .filter((e) => !String(e.event).startsWith('$'))
      .map((e) => ({
        event: e.event,
        user: e.distinct_id,
        org: (e.properties as { $groups?: { organization?: string } }).$groups?.organization,
      }))
    expect(moments).toEqual([
      { event: 'user_signed_up', user: owner.id, org: undefined },
      { event: 'email_verified', user: owner.id, org: undefined },
      { event: 'organization_created', user: owner.id, org: orgId },
      { event: 'project_created', user: owner.id, org: orgId },
      { event: 'api_key_created', user: owner.id, org: orgId },
      { event: 'member_invited', user: owner.id, org: orgId },
      { event: 'user_signed_up', user: invitee.id, org: undefined },
      { event: 'email_verified', user: invitee.id, org: undefined },
      { event: 'member_joined', user: invitee.id, org: orgId },
    ])
    const invited = capturedEvents(posthog).find((e) => e.event === 'member_invited')
    expect(invited?.properties).toMatchObject({ role: 'member', source: 'session' })
  })

  it('carries no email address and no name anywhere', async () => {
    await expect.poll(() => capturedEvents(posthog).length).toBeGreaterThan(0)
    const sent = posthog.requests.map((r) => r.body).join('\n')
    expect(sent).not.toMatch(/@example\.com|Olive|Ivy|olive|ivy/)
  })
})

describe('sign-up with a provider', () => {
  it('is a sign-up the first time only; later sign-ins are not', async () => {
    const posthog = await sink()
    const app = await server({
      POSTHOG_KEY: 'phc_oauth',
      POSTHOG_HOST: posthog.posthogHost,
      APP_URL,
      ...fakeOAuthEnv(provider()),
    })
    provider().setUser({ id: 'gh-77', email: 'grace@example.com', emailVerified: true, name: 'G' })
    const first = await oauthSignIn(app, provider(), 'github')
    expect(first.statusCode, first.body).toBe(200)
    expect((await oauthSignIn(app, provider(), 'github')).statusCode).toBe(200)
    await app.close()
    const signUps = capturedEvents(posthog).filter((e) => e.event === 'user_signed_up')
    expect(signUps).toEqual([
      expect.objectContaining({
        distinct_id: first.json().user.id,
        properties: expect.objectContaining({ method: 'github' }),
      }),
    ])
  })
})

describe('personal data in properties', () => {
  const poisoned = {
    plan: 'pro',
    email: 'pat@example.com',
    name: 'Pat Doe',
    note: 'ask pat@example.com',
    nested: { firstName: 'Pat' },
  }

  it('is removed before sending unless configured', async () => {
    const posthog = await sink()
    const app = await server({ POSTHOG_KEY: 'phc_scrub', POSTHOG_HOST: posthog.posthogHost })
    app.analytics.capture({ distinctId: 'user_1', event: 'poisoned', properties: poisoned })
    await app.close()
    const event = capturedEvents(posthog).find((e) => e.event === 'poisoned')
    expect(event?.properties).toMatchObject({ plan: 'pro', note: 'ask [email]', nested: {} })
    expect(JSON.stringify(event)).not.toMatch(/pat@example\.com|Pat/)
  })

  it('stays when POSTHOG_ALLOW_PERSONAL_PROPERTIES is on', async () => {
    const posthog = await sink()
    const app = await server({
      POSTHOG_KEY: 'phc_allow',
      POSTHOG_HOST: posthog.posthogHost,
      POSTHOG_ALLOW_PERSONAL_PROPERTIES: 'true',
    })
    app.analytics.capture({ distinctId: 'user_1', event: 'allowed', properties: poisoned })
    await app.close()
    const event = capturedEvents(posthog).find((e) => e.event === 'allowed')
    expect(event?.properties).toMatchObject(poisoned)
  })
})

describe('the sign-up kill switch (feature flag signup-enabled)', () => {
  const flagsAnswer = (enabled: boolean) => (request: SinkRequest) =>
    request.path.startsWith('/flags/?')
      ? {
          flags: {
            'signup-enabled': {
              key: 'signup-enabled',
              enabled,
              variant: null,
              reason: { code: 'condition_match' },
              metadata: { id: 1, version: 1 },
            },
          },
        }
      : undefined

  /** Signs up a fresh address; answers the status and how long the API took. */
  async function timedSignUp(app: FastifyInstance) {
    const started = performance.now()
    const res = await app.inject({
      method: 'POST',
      url: '/v1/auth/sign-up',
      payload: { email: `flag-${crypto.randomUUID()}@example.com`, password, name: 'Flag' },
    })
    return { res, ms: performance.now() - started }
  }

  it('closes sign-up when PostHog says it is off', async () => {
    const posthog = await sink({ respond: flagsAnswer(false) })
    const app = await server({ POSTHOG_KEY: 'phc_flag_off', POSTHOG_HOST: posthog.posthogHost })
    try {
      const { res } = await timedSignUp(app)
      expect(res.statusCode).toBe(403)
      expect(res.json()).toMatchObject({ type: 'urn:groundwork:problem:signup_paused' })
      expect(posthog.requests.some((r) => r.path.startsWith('/flags/'))).toBe(true)
    } finally {
      await app.close()
    }
  })

  /** How long one flag check of the kill switch takes, and what it answers. */
  async function timedCheck(app: FastifyInstance) {
    const started = performance.now()
    const open = await app.analytics.isFeatureEnabled('signup-enabled', 'anonymous', true)
    return { open, ms: performance.now() - started }
  }

  it('stays open, promptly, when PostHog is down (connection refused)', async () => {
    const gone = await startTelemetrySink()
    await gone.close()
    const app = await server({
      POSTHOG_KEY: 'phc_down',
      POSTHOG_HOST: gone.posthogHost,
      POSTHOG_FLAG_TIMEOUT_MS: '200',
    })
    try {
      const check = await timedCheck(app)
      expect(check.open).toBe(true)
      expect(check.ms).toBeLessThan(1_000)
      const { res, ms } = await timedSignUp(app)
      expect(res.statusCode, res.body).toBe(201)
      // The default, not an error; sign-up itself (Argon2id) is most of this time.
      expect(ms).toBeLessThan(5_000)
    } finally {
      await app.close()
    }
  })

  it('stays open after the bound when PostHog is slow (its answer, off, comes too late)', async () => {
    const posthog = await sink({ respondAfterMs: 10_000, respond: flagsAnswer(false) })
    const app = await server({
      POSTHOG_KEY: 'phc_slow',
      POSTHOG_HOST: posthog.posthogHost,
      POSTHOG_FLAG_TIMEOUT_MS: '200',
    })
    try {
      const check = await timedCheck(app)
      expect(check.open).toBe(true)
      // The bound (200 ms) and some slack for a loaded machine; PostHog answers after 10 s.
      expect(check.ms).toBeLessThan(1_000)
      const { res, ms } = await timedSignUp(app)
      // PostHog would have said off, 10 s later: the request did not wait for it.
      expect(res.statusCode, res.body).toBe(201)
      expect(ms).toBeLessThan(5_000)
      expect(posthog.requests.some((r) => r.path.startsWith('/flags/'))).toBe(true)
    } finally {
      await app.close()
    }
  })

  it('is evaluated locally from polled definitions when a personal API key is set', async () => {
    const posthog = await sink({
      respond: (request) =>
        request.path.startsWith('/flags/definitions')
          ? {
              flags: [
                {
                  id: 1,
                  key: 'signup-enabled',
                  active: true,
                  filters: { groups: [{ properties: [], rollout_percentage: 0 }] },
                },
              ],
              group_type_mapping: { '0': 'organization' },
              cohorts: {},
            }
          : undefined,
    })
    const app = await server({
      POSTHOG_KEY: 'phc_local',
      POSTHOG_HOST: posthog.posthogHost,
      POSTHOG_PERSONAL_API_KEY: 'phx_personal',
    })
    try {
      const definitions = await posthog.waitFor((r) => r.path.startsWith('/flags/definitions'))
      expect(definitions.headers.authorization).toBe('Bearer phx_personal')
      const { res } = await timedSignUp(app)
      expect(res.statusCode).toBe(403)
      // Decided from the definitions: no remote evaluation request.
      expect(posthog.requests.filter((r) => r.path.startsWith('/flags/?'))).toEqual([])
    } finally {
      await app.close()
    }
  })
})
