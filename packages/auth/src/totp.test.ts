import { describe, expect, it } from 'vitest'
import { currentTotp, matchTotp } from './totp.ts'

// RFC 6238, Appendix B: the SHA-1 test vectors (secret "12345678901234567890", 30 s steps).
// The RFC prints 8-digit codes; a 6-digit code is their last six digits (RFC 4226 5.3).
const RFC_SECRET = new TextEncoder().encode('12345678901234567890')
const VECTORS: Array<[seconds: number, eightDigits: string]> = [
  [59, '94287082'],
  [1111111109, '07081804'],
  [1111111111, '14050471'],
  [1234567890, '89005924'],
  [2000000000, '69279037'],
  [20000000000, '65353130'],
]

describe('TOTP against RFC 6238', () => {
  it.each(VECTORS)('shows the published code at %i s', (seconds, eightDigits) => {
    expect(currentTotp(RFC_SECRET, seconds * 1000)).toBe(eightDigits.slice(-6))
  })

  it.each(VECTORS)(
    'accepts the published code at %i s, one step of drift either way',
    (seconds, eightDigits) => {
      const code = eightDigits.slice(-6)
      const step = BigInt(Math.floor(seconds / 30))
      expect(matchTotp(RFC_SECRET, code, seconds * 1000)).toBe(step)
      expect(matchTotp(RFC_SECRET, code, (seconds + 30) * 1000)).toBe(step)
      expect(matchTotp(RFC_SECRET, code, (seconds - 30) * 1000)).toBe(step)
      // Two steps away is too far.
      expect(matchTotp(RFC_SECRET, code, (seconds + 60) * 1000)).toBeNull()
    },
  )

  it('refuses anything but six digits', () => {
    for (const code of ['', '12345', '1234567', '12345a', ' 287082', '287082\n'])
      expect(matchTotp(RFC_SECRET, code, 59_000)).toBeNull()
  })
})
