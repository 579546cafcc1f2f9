import { describe, expect, it } from 'vitest'
import { newId } from './ids.ts'

describe('newId', () => {
  it('makes UUIDv7s: version 7, RFC 9562 variant, the current millisecond in front', () => {
    const before = Date.now()
    const id = newId()
    const after = Date.now()
    expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/)
    const millis = Number.parseInt(id.replaceAll('-', '').slice(0, 12), 16)
    expect(millis).toBeGreaterThanOrEqual(before)
    expect(millis).toBeLessThanOrEqual(after)
  })

  it('never repeats, across many refills of its pool of random bytes', () => {
    const ids = Array.from({ length: 20_000 }, () => newId())
    expect(new Set(ids).size).toBe(ids.length)
    // The random part too: no two ids share their random bits (a pool handed out twice would).
    const randomParts = ids.map((id) => id.replaceAll('-', '').slice(13))
    expect(new Set(randomParts).size).toBe(ids.length)
  })

  it('orders ids of different milliseconds by time', () => {
    const first = newId()
    const started = Date.now()
    while (Date.now() === started) {
      // until the clock's next millisecond
    }
    const second = newId()
    expect(second > first).toBe(true)
  })
})
