/**
 * The demo account the seed creates and `pnpm dev` prints: public development data, never
 * a real credential (the seed refuses production). On example.com (RFC 2606), so mail to
 * it can never reach anyone. The hash is Argon2id with the parameters packages/auth uses
 * (a test there checks that it verifies), kept here because packages/auth depends on this
 * package, not the other way. A module of its own so that reading it loads no client.
 */
export const DEMO_ACCOUNT = {
  email: 'demo@example.com',
  password: 'ship-the-product',
  passwordHash:
    '$argon2id$v=19$m=19456,t=2,p=1$8qgX8AKKDkK6fxGnxH/qVg$hl9mG5fTG8IqVKFUOvYFyATwiXOAk0QX7E1o8KvrZrk',
} as const

export const DEMO_ORGANIZATION = 'Acme (demo)'
