import { DEMO_ACCOUNT, DEMO_ACCOUNTS } from '@repo/db/demo-account'
import { describe, expect, it } from 'vitest'
import { ARGON2ID, passwordProblem, verifyPassword } from './password.ts'

describe('the seeded demo accounts', () => {
  // The seed stores a precomputed hash (packages/db cannot depend on this package): it must
  // verify as the password `pnpm dev` prints, and that password must pass our own rules.
  it('has a hash that verifies as its printed password, and only as that', async () => {
    expect(await verifyPassword(DEMO_ACCOUNT.passwordHash, DEMO_ACCOUNT.password)).toBe(true)
    expect(await verifyPassword(DEMO_ACCOUNT.passwordHash, `${DEMO_ACCOUNT.password}!`)).toBe(false)
    // Hashed with the parameters we hash with today.
    const { memoryCost: m, timeCost: t, parallelism: p } = ARGON2ID
    expect(DEMO_ACCOUNT.passwordHash.startsWith(`$argon2id$v=19$m=${m},t=${t},p=${p}$`)).toBe(true)
    expect(passwordProblem(DEMO_ACCOUNT.password, { email: DEMO_ACCOUNT.email })).toBeUndefined()
  })

  it('share that hash and password, which our rules accept for each of their emails', () => {
    for (const account of DEMO_ACCOUNTS) {
      expect(account.passwordHash, account.email).toBe(DEMO_ACCOUNT.passwordHash)
      expect(account.password, account.email).toBe(DEMO_ACCOUNT.password)
      expect(passwordProblem(account.password, { email: account.email }), account.email).toBe(
        undefined,
      )
    }
  })
})
