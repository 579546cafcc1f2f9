import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto'
import { encryptSecret } from '@repo/auth'
import { Webhook } from 'standardwebhooks'
import { describe, expect, it } from 'vitest'
import { signedHeaders } from './webhook-signature.ts'

// Deliveries are checked against the Standard Webhooks specification itself: its reference
// test vector, a receiver written from the specification's text (node:crypto, no library),
// and the reference library a customer verifies with.
const secretsKey = randomBytes(32)
const sealed = (secret: string) => encryptSecret(Buffer.from(secret, 'utf8'), secretsKey)
const newSecret = () => `whsec_${randomBytes(32).toString('base64')}`

/**
 * A receiver built from the specification alone: HMAC-SHA256, keyed with the base64 after
 * `whsec_`, over `{webhook-id}.{webhook-timestamp}.{body}`; `webhook-signature` is a
 * space-delimited list of `v1,<base64>`, and one match is enough.
 */
function specVerifies(secret: string, headers: Record<string, string>, body: string) {
  const key = Buffer.from(secret.replace(/^whsec_/, ''), 'base64')
  const id = headers['webhook-id'] ?? ''
  const timestamp = headers['webhook-timestamp'] ?? ''
  if (!/^\d+$/.test(timestamp) || id.includes('.')) return false
  const expected = createHmac('sha256', key).update(`${id}.${timestamp}.${body}`).digest()
  return (headers['webhook-signature'] ?? '').split(' ').some((entry) => {
    const [version, signature, ...rest] = entry.split(',')
    if (version !== 'v1' || !signature || rest.length > 0) return false
    const given = Buffer.from(signature, 'base64')
    return given.length === expected.length && timingSafeEqual(given, expected)
  })
}

describe('Standard Webhooks signatures', () => {
  it('reproduce the reference test vector exactly', () => {
    // The vector of the reference libraries' own tests ("sign function works" in
    // standard-webhooks/libraries/javascript/src/webhook.test.ts). The attempt happens 999 ms
    // into its second: the timestamp is whole seconds since the epoch, cut, not rounded.
    const headers = signedHeaders(
      { secretsKey },
      {
        secret: sealed('whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw'),
        previousSecret: null,
        previousSecretExpiresAt: null,
      },
      'msg_p5jXN8AQM9LWM0D4loKWxJek',
      '{"test": 2432232314}',
      new Date(1614265330_999),
    )
    expect(headers).toMatchObject({
      'webhook-id': 'msg_p5jXN8AQM9LWM0D4loKWxJek',
      'webhook-timestamp': '1614265330',
      'webhook-signature': 'v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=',
    })
    // The receiver below agrees with the vector, so it is fit to judge the other tests.
    expect(
      specVerifies('whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw', headers, '{"test": 2432232314}'),
    ).toBe(true)
  })

  it('verify with a receiver written from the specification and with the reference library, both secrets during a rotation', () => {
    const [current, previous, stranger] = [newSecret(), newSecret(), newSecret()]
    const body = JSON.stringify({ type: 'project.created', data: { name: 'Ünïcödé "quoted"' } })
    const headers = signedHeaders(
      { secretsKey },
      {
        secret: sealed(current),
        previousSecret: sealed(previous),
        previousSecretExpiresAt: new Date(Date.now() + 3_600_000),
      },
      `msg_${randomBytes(16).toString('hex')}`,
      body,
      // Late in its second, so a rounded timestamp header would not match the signed one.
      new Date(Math.floor(Date.now() / 1000) * 1000 + 999),
    )
    expect(headers['webhook-signature'].split(' ')).toHaveLength(2)
    for (const secret of [current, previous]) {
      expect(specVerifies(secret, headers, body)).toBe(true)
      // The library reads the headers by these names: a renamed one fails here.
      expect(new Webhook(secret).verify(body, headers)).toEqual(JSON.parse(body))
    }
    expect(specVerifies(stranger, headers, body)).toBe(false)
    expect(() => new Webhook(stranger).verify(body, headers)).toThrow()
    expect(specVerifies(current, headers, `${body} `)).toBe(false)
  })

  it('sign with the current secret only once the previous one has expired', () => {
    const [current, previous] = [newSecret(), newSecret()]
    const headers = signedHeaders(
      { secretsKey },
      {
        secret: sealed(current),
        previousSecret: sealed(previous),
        previousSecretExpiresAt: new Date(Date.now() - 1_000),
      },
      `msg_${randomBytes(16).toString('hex')}`,
      '{}',
      new Date(),
    )
    expect(headers['webhook-signature'].split(' ')).toHaveLength(1)
    expect(specVerifies(current, headers, '{}')).toBe(true)
    expect(specVerifies(previous, headers, '{}')).toBe(false)
  })
})
