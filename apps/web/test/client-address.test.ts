import { describe, expect, it } from 'vitest'
import { clientAddress } from '../lib/client-address.ts'

describe('clientAddress', () => {
  it('with no proxy, is the peer whatever the client wrote', () => {
    expect(clientAddress('6.6.6.6', '203.0.113.9', 0)).toBe('203.0.113.9')
    expect(clientAddress(undefined, '203.0.113.9', 0)).toBe('203.0.113.9')
  })

  it('behind one proxy, is the address that proxy saw, not what the client prepended', () => {
    // client wrote 6.6.6.6; the proxy appended the real client 198.51.100.7; peer is the proxy
    expect(clientAddress('6.6.6.6, 198.51.100.7', '10.0.0.2', 1)).toBe('198.51.100.7')
  })

  it('behind two proxies, skips both', () => {
    expect(clientAddress('6.6.6.6, 198.51.100.7, 10.0.0.3', '10.0.0.2', 2)).toBe('198.51.100.7')
  })

  it('joins repeated headers in order', () => {
    expect(clientAddress(['6.6.6.6', '198.51.100.7'], '10.0.0.2', 1)).toBe('198.51.100.7')
  })

  it('with fewer entries than proxies, falls back to the peer', () => {
    expect(clientAddress(undefined, '10.0.0.2', 2)).toBe('10.0.0.2')
  })

  it('unwraps IPv4-mapped IPv6 peers', () => {
    expect(clientAddress(undefined, '::ffff:127.0.0.1', 0)).toBe('127.0.0.1')
  })
})
