import { describe, expect, it } from 'vitest'
import { clientNetwork } from './client-network.ts'

describe('clientNetwork', () => {
  it('groups IPv6 clients by their /64, however the address is written', () => {
    const a = clientNetwork('2001:db8:abcd:12:1::1')
    expect(a).toBe('2001:db8:abcd:12::/64')
    expect(clientNetwork('2001:0db8:abcd:0012:ffff:ffff:ffff:ffff')).toBe(a)
    expect(clientNetwork('2001:db8:abcd:13::1')).not.toBe(a)
  })

  it('takes another prefix when configured', () => {
    expect(clientNetwork('2001:db8:abcd:12:1::1', 48)).toBe('2001:db8:abcd::/48')
    expect(clientNetwork('2001:db8::1', 128)).toBe('2001:db8::1/128')
  })

  it('leaves IPv4 alone, and unwraps IPv4-mapped IPv6', () => {
    expect(clientNetwork('203.0.113.9')).toBe('203.0.113.9')
    expect(clientNetwork('::ffff:203.0.113.9')).toBe('203.0.113.9')
  })

  it('keeps what does not parse as one key', () => {
    expect(clientNetwork('not-an-ip')).toBe('not-an-ip')
  })
})
