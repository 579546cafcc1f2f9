import { lookup } from 'node:dns/promises'
import { describe, expect, it } from 'vitest'
import { useApiServer } from './helpers.ts'

// Argon2id shares libuv's thread pool with dns.lookup and files. A burst of sign-ins is
// hashed a bounded number at a time, the overflow answered 503 at once, and the rest of
// the process keeps its threads.
const { server } = useApiServer({ PASSWORD_HASH_CONCURRENCY: '1', PASSWORD_HASH_QUEUE: '4' })

describe('password hashing under a burst', () => {
  it('runs a bounded number at once, sheds the overflow with 503, and never stalls DNS', async () => {
    let hashed = 0
    let firstAnswered: () => void = () => {}
    const underWay = new Promise<void>((done) => (firstAnswered = done))
    const burst = Array.from({ length: 40 }, (_, i) =>
      server
        .inject({
          method: 'POST',
          url: '/v1/auth/sign-in',
          payload: { email: `nobody-${i}@example.com`, password: 'not the password' },
          remoteAddress: `10.20.0.${i}`,
        })
        .then((res) => {
          if (res.statusCode === 401) hashed++
          firstAnswered()
          return res
        }),
    )
    // Issued once the burst is being hashed (its first answer is out).
    await underWay
    const resolved = lookup('localhost').then(() => hashed)
    const answers = await Promise.all(burst)
    const hashedBeforeDns = await resolved

    const codes = answers.map((res) => res.statusCode)
    expect(
      codes.every((code) => code === 401 || code === 503),
      codes.join(','),
    ).toBe(true)
    const shed = answers.filter((res) => res.statusCode === 503)
    expect(shed.length).toBeGreaterThan(0)
    expect(shed[0]?.headers['retry-after']).toBe('1')
    expect(shed[0]?.json().type).toBe('urn:groundwork:problem:busy')
    // One running and four waiting at a time: the burst's head is checked, the rest shed
    // at once (a few more get in if early hashes finish while the burst still arrives).
    expect(answers.filter((res) => res.statusCode === 401).length).toBeLessThan(15)
    // The lookup did not wait behind the hashes (unbounded, it queues behind all of them).
    expect(hashedBeforeDns).toBeLessThan(10)
  })
})
