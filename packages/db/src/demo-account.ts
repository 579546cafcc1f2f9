/**
 * The demo accounts the seed creates and `pnpm dev` prints: public development data, never
 * real credentials (the seed refuses production). On example.com (RFC 2606), so mail to
 * them can never reach anyone. The hash is Argon2id with the parameters packages/auth uses
 * (a test there checks that it verifies), kept here because packages/auth depends on this
 * package, not the other way. A module of its own so that reading it loads no client.
 */
const password = 'ship-the-product'
const passwordHash =
  '$argon2id$v=19$m=19456,t=2,p=1$8qgX8AKKDkK6fxGnxH/qVg$hl9mG5fTG8IqVKFUOvYFyATwiXOAk0QX7E1o8KvrZrk'

/** The owner of the demo organization: the account to sign in with first. */
export const DEMO_ACCOUNT = {
  email: 'demo@example.com',
  name: 'Demo User',
  role: 'owner',
  password,
  passwordHash,
} as const

/**
 * One account for each other role, with the same password (and so the same hash): signing
 * in as each shows what that role may and may not do.
 */
export const DEMO_ADMIN = {
  email: 'admin@example.com',
  name: 'Ada Admin',
  role: 'admin',
  password,
  passwordHash,
} as const
export const DEMO_MEMBER = {
  email: 'member@example.com',
  name: 'Max Member',
  role: 'member',
  password,
  passwordHash,
} as const

/** Every demo account, owner first. */
export const DEMO_ACCOUNTS = [DEMO_ACCOUNT, DEMO_ADMIN, DEMO_MEMBER] as const

export const DEMO_ORGANIZATION = 'Acme (demo)'
