import { DEMO_ACCOUNT } from '@repo/db/seed'
import { describe, expect, it } from 'vitest'
import { passwordProblem, verifyPassword } from './password.ts'

describe('the seeded demo account', () => {
  // The seed stores a precomputed hash (packages/db cannot depend on this package): it must
  // verify as the password `pnpm dev` prints, and that password must pass our own rules.
  it('has a hash that verifies as its printed password, and only as that', async () => {
    expect(await verifyPassword(DEMO_ACCOUNT.passwordHash, DEMO_ACCOUNT.password)).toBe(true)
    expect(await verifyPassword(DEMO_ACCOUNT.passwordHash, `${DEMO_ACCOUNT.password}!`)).toBe(false)
    expect(DEMO_ACCOUNT.passwordHash).toMatch(/^\$argon2id\$v=19\$m=19456,t=2,p=1\$/)
    expect(passwordProblem(DEMO_ACCOUNT.password, { email: DEMO_ACCOUNT.email })).toBeUndefined()
  })
})
