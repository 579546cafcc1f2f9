import Stripe from 'stripe'
import { describe, expect, it } from 'vitest'
import { buildTestServer, useApiServer } from './helpers.ts'

// Incoming Stripe webhooks: verified with the official SDK, stored under a unique event
// id before the 2xx, processing queued through the outbox; duplicates do nothing.
const SECRET = 'whsec_test_groundwork'
const { server, services, sql } = useApiServer({ STRIPE_WEBHOOK_SECRET: SECRET })

const event = (id: string, created = Math.floor(Date.now() / 1000)) =>
  JSON.stringify({
    id,
    object: 'event',
    type: 'customer.subscription.updated',
    created,
    data: { object: { id: 'sub_1', object: 'subscription', customer: 'cus_1', status: 'active' } },
  })
const deliver = (payload: string, signature?: string) =>
  server.inject({
    method: 'POST',
    url: '/v1/webhooks/stripe',
    headers: {
      'content-type': 'application/json',
      ...(signature === undefined
        ? {
            'stripe-signature': Stripe.webhooks.generateTestHeaderString({
              payload,
              secret: SECRET,
            }),
          }
        : { 'stripe-signature': signature }),
    },
    payload,
  })

describe('incoming Stripe webhooks', () => {
  it('store a verified event and queue its processing, once, however often it arrives', async () => {
    const payload = event('evt_once')
    const first = await deliver(payload)
    expect(first.statusCode, first.body).toBe(200)
    expect(first.json()).toEqual({ received: true, duplicate: false })
    const again = await deliver(payload)
    expect(again.json()).toEqual({ received: true, duplicate: true })
    const concurrent = await Promise.all([1, 2, 3].map(() => deliver(payload)))
    expect(concurrent.map((r) => r.statusCode)).toEqual([200, 200, 200])
    expect(
      await sql("SELECT type, object_id FROM incoming_webhook_events WHERE event_id = 'evt_once'"),
    ).toEqual([{ type: 'customer.subscription.updated', object_id: 'sub_1' }])
    const queued = await sql(
      "SELECT job_name FROM outbox_messages WHERE job_name = 'webhooks.stripe-event'",
    )
    expect(queued).toHaveLength(1)
  })

  it('refuse a bad signature, a tampered body, an old delivery or none, with 400', async () => {
    const payload = event('evt_bad')
    const wrongSecret = Stripe.webhooks.generateTestHeaderString({ payload, secret: 'whsec_other' })
    const stale = Stripe.webhooks.generateTestHeaderString({
      payload,
      secret: SECRET,
      timestamp: Math.floor(Date.now() / 1000) - 3_600,
    })
    const valid = Stripe.webhooks.generateTestHeaderString({ payload, secret: SECRET })
    for (const [what, res] of [
      ['wrong secret', await deliver(payload, wrongSecret)],
      ['tampered body', await deliver(payload.replace('active', 'canceled'), valid)],
      ['older than the tolerance', await deliver(payload, stale)],
      ['garbage header', await deliver(payload, 't=1,v1=zz')],
      [
        'no header',
        await server.inject({
          method: 'POST',
          url: '/v1/webhooks/stripe',
          headers: { 'content-type': 'application/json' },
          payload,
        }),
      ],
    ] as const) {
      expect(res.statusCode, what).toBe(400)
      expect(res.headers['content-type'], what).toContain('application/problem+json')
    }
    expect(await sql("SELECT id FROM incoming_webhook_events WHERE event_id = 'evt_bad'")).toEqual(
      [],
    )
  })

  it('is off (404) when no signing secret is configured', async () => {
    const { database, redis } = services()
    const app = await buildTestServer({ DATABASE_URL: database.appUrl, REDIS_URL: redis.url })
    try {
      const payload = event('evt_off')
      const res = await app.inject({
        method: 'POST',
        url: '/v1/webhooks/stripe',
        headers: {
          'content-type': 'application/json',
          'stripe-signature': Stripe.webhooks.generateTestHeaderString({ payload, secret: SECRET }),
        },
        payload,
      })
      expect(res.statusCode).toBe(404)
    } finally {
      await app.close()
    }
  })
})
