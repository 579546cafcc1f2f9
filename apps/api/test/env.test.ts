import { EnvError, parseEnv, secretsKey } from '@repo/config'
import { describe, expect, it } from 'vitest'
import { apiEnvSchema } from '../src/env.ts'

const base = {
  DATABASE_URL: 'postgresql://a:b@127.0.0.1:5432/c',
  REDIS_URL: 'redis://127.0.0.1:6379',
}
const development = { ...base, NODE_ENV: 'development' }
const key = Buffer.alloc(32, 1).toString('base64')
/** Everything production needs, set. */
const production = {
  ...base,
  NODE_ENV: 'production',
  MFA_ENCRYPTION_KEY: key,
  API_PUBLIC_URL: 'https://api.example.com',
  APP_URL: 'https://app.example.com',
  TRUST_PROXY: '10.0.0.0/8',
}

describe('API environment', () => {
  it('counts an unset NODE_ENV as production: it fails closed', () => {
    expect(() => parseEnv(apiEnvSchema, base)).toThrowError(
      /MFA_ENCRYPTION_KEY: is required in production/,
    )
    const { NODE_ENV: _, ...unset } = production
    expect(parseEnv(apiEnvSchema, unset).NODE_ENV).toBe('production')
  })

  it('requires an MFA encryption key in production, of the right size', () => {
    const { MFA_ENCRYPTION_KEY: _, ...withoutKey } = production
    expect(() => parseEnv(apiEnvSchema, withoutKey)).toThrowError(
      /MFA_ENCRYPTION_KEY: is required in production/,
    )
    expect(() =>
      parseEnv(apiEnvSchema, { ...development, MFA_ENCRYPTION_KEY: 'c2hvcnQ=' }),
    ).toThrowError(EnvError)
    expect(parseEnv(apiEnvSchema, production).MFA_ENCRYPTION_KEY).toBe(key)
  })

  it('never falls back to the development secrets key in production: secretsKey() throws', () => {
    expect(() => secretsKey({ NODE_ENV: 'production' })).toThrowError(
      /MFA_ENCRYPTION_KEY is required in production/,
    )
    // Outside production the fallback is the public development key.
    expect(secretsKey({ NODE_ENV: 'development' })).toHaveLength(32)
    expect(secretsKey({ NODE_ENV: 'production', MFA_ENCRYPTION_KEY: key })).toEqual(
      Buffer.from(key, 'base64'),
    )
    // The public development key, set explicitly (base64 of what this repository publishes),
    // is refused too: by the env check and by secretsKey() itself.
    const published = secretsKey({ NODE_ENV: 'development' }).toString('base64')
    expect(() =>
      secretsKey({ NODE_ENV: 'production', MFA_ENCRYPTION_KEY: published }),
    ).toThrowError(/not the public development key/)
    expect(() =>
      parseEnv(apiEnvSchema, { ...production, MFA_ENCRYPTION_KEY: published }),
    ).toThrowError(/MFA_ENCRYPTION_KEY: is the public development key/)
  })

  it('refuses the development defaults of the URLs it hands out, in production', () => {
    const { APP_URL: _, ...withoutAppUrl } = production
    expect(() => parseEnv(apiEnvSchema, withoutAppUrl)).toThrowError(
      /APP_URL: is required in production/,
    )
    expect(parseEnv(apiEnvSchema, development).APP_URL).toBe('http://127.0.0.1:3000')
  })

  it('refuses to turn the webhook SSRF guard off in production', () => {
    expect(() =>
      parseEnv(apiEnvSchema, { ...production, WEBHOOKS_ALLOW_PRIVATE_TARGETS: 'true' }),
    ).toThrowError(/WEBHOOKS_ALLOW_PRIVATE_TARGETS: must be false in production/)
    expect(parseEnv(apiEnvSchema, production).WEBHOOKS_ALLOW_PRIVATE_TARGETS).toBe(false)
    expect(
      parseEnv(apiEnvSchema, { ...development, WEBHOOKS_ALLOW_PRIVATE_TARGETS: 'true' })
        .WEBHOOKS_ALLOW_PRIVATE_TARGETS,
    ).toBe(true)
  })

  it('accepts a list of internal webhook receivers in production, the narrow alternative', () => {
    expect(
      parseEnv(apiEnvSchema, {
        ...production,
        WEBHOOKS_ALLOWED_PRIVATE_TARGETS: '10.0.0.5:8443, [fd00::/64]:443',
      }).WEBHOOKS_ALLOWED_PRIVATE_TARGETS,
    ).toEqual([
      { address: '10.0.0.5', prefix: 32, port: 8443 },
      { address: 'fd00::', prefix: 64, port: 443 },
    ])
  })

  it('requires the proxy setting in production instead of guessing it', () => {
    const { TRUST_PROXY: _, ...withoutProxy } = production
    expect(() => parseEnv(apiEnvSchema, withoutProxy)).toThrowError(
      /TRUST_PROXY: is required in production/,
    )
    expect(parseEnv(apiEnvSchema, development).TRUST_PROXY).toBeUndefined()
  })

  it('requires the public URL in production, for the links the API hands out', () => {
    const { API_PUBLIC_URL: _, ...withoutPublicUrl } = production
    expect(() => parseEnv(apiEnvSchema, withoutPublicUrl)).toThrowError(
      /API_PUBLIC_URL: is required in production/,
    )
    expect(() =>
      parseEnv(apiEnvSchema, { ...development, API_PUBLIC_URL: 'ftp://x.example' }),
    ).toThrowError(/API_PUBLIC_URL/)
  })

  it('lists CORS origins and rejects ones that are not URLs', () => {
    expect(
      parseEnv(apiEnvSchema, {
        ...development,
        CORS_ORIGINS: 'https://a.example, https://b.example',
      }).CORS_ORIGINS,
    ).toEqual(['https://a.example', 'https://b.example'])
    expect(() =>
      parseEnv(apiEnvSchema, { ...development, CORS_ORIGINS: 'not a url' }),
    ).toThrowError(/CORS_ORIGINS/)
  })

  it('serves the API reference only in development and tests, unless enabled', async () => {
    const { buildServer } = await import('../src/build-server.ts')
    const { NODE_ENV: _, ...unset } = production
    for (const [overrides, status] of [
      [production, 404],
      [unset, 404],
      [{ ...production, API_DOCS_ENABLED: 'true' }, 200],
      [development, 200],
      [{ ...development, API_DOCS_ENABLED: 'false' }, 404],
    ] as const) {
      const app = await buildServer(
        parseEnv(apiEnvSchema, {
          ...overrides,
          LOG_LEVEL: 'silent',
          REDIS_CONNECT_TIMEOUT_MS: '100',
          PRESSURE_MAX_EVENT_LOOP_DELAY_MS: '0',
          PRESSURE_MAX_EVENT_LOOP_UTILIZATION: '0',
        }),
      )
      expect((await app.inject({ url: '/docs/' })).statusCode, JSON.stringify(overrides)).toBe(
        status,
      )
      // The document itself is public everywhere (docs/security.md, "Decisions").
      expect((await app.inject({ url: '/openapi.json' })).statusCode).toBe(200)
      await app.close()
    }
  })
})
