import { EnvError, parseEnv } from '@repo/config'
import { describe, expect, it } from 'vitest'
import { apiEnvSchema } from '../src/env.ts'

const base = {
  DATABASE_URL: 'postgresql://a:b@127.0.0.1:5432/c',
  REDIS_URL: 'redis://127.0.0.1:6379',
}

describe('API environment', () => {
  it('requires an MFA encryption key in production, of the right size', () => {
    expect(() => parseEnv(apiEnvSchema, { ...base, NODE_ENV: 'production' })).toThrowError(
      /MFA_ENCRYPTION_KEY: is required in production/,
    )
    expect(() => parseEnv(apiEnvSchema, { ...base, MFA_ENCRYPTION_KEY: 'c2hvcnQ=' })).toThrowError(
      EnvError,
    )
    const key = Buffer.alloc(32, 1).toString('base64')
    expect(
      parseEnv(apiEnvSchema, {
        ...base,
        NODE_ENV: 'production',
        MFA_ENCRYPTION_KEY: key,
        API_PUBLIC_URL: 'https://api.example.com',
      }).MFA_ENCRYPTION_KEY,
    ).toBe(key)
  })

  it('refuses to turn the webhook SSRF guard off in production', () => {
    const key = Buffer.alloc(32, 1).toString('base64')
    const production = {
      ...base,
      NODE_ENV: 'production',
      MFA_ENCRYPTION_KEY: key,
      API_PUBLIC_URL: 'https://api.example.com',
    }
    expect(() =>
      parseEnv(apiEnvSchema, { ...production, WEBHOOKS_ALLOW_PRIVATE_TARGETS: 'true' }),
    ).toThrowError(/WEBHOOKS_ALLOW_PRIVATE_TARGETS: must be false in production/)
    expect(parseEnv(apiEnvSchema, production).WEBHOOKS_ALLOW_PRIVATE_TARGETS).toBe(false)
    expect(
      parseEnv(apiEnvSchema, { ...base, WEBHOOKS_ALLOW_PRIVATE_TARGETS: 'true' })
        .WEBHOOKS_ALLOW_PRIVATE_TARGETS,
    ).toBe(true)
  })

  it('requires the public URL in production, for the links the API hands out', () => {
    const key = Buffer.alloc(32, 1).toString('base64')
    expect(() =>
      parseEnv(apiEnvSchema, { ...base, NODE_ENV: 'production', MFA_ENCRYPTION_KEY: key }),
    ).toThrowError(/API_PUBLIC_URL: is required in production/)
    expect(() =>
      parseEnv(apiEnvSchema, { ...base, API_PUBLIC_URL: 'ftp://x.example' }),
    ).toThrowError(/API_PUBLIC_URL/)
  })

  it('lists CORS origins and rejects ones that are not URLs', () => {
    expect(
      parseEnv(apiEnvSchema, { ...base, CORS_ORIGINS: 'https://a.example, https://b.example' })
        .CORS_ORIGINS,
    ).toEqual(['https://a.example', 'https://b.example'])
    expect(() => parseEnv(apiEnvSchema, { ...base, CORS_ORIGINS: 'not a url' })).toThrowError(
      /CORS_ORIGINS/,
    )
  })

  it('turns the API reference off in production unless enabled', async () => {
    const { buildServer } = await import('../src/build-server.ts')
    const key = Buffer.alloc(32, 1).toString('base64')
    for (const [overrides, status] of [
      [
        { NODE_ENV: 'production', MFA_ENCRYPTION_KEY: key, API_PUBLIC_URL: 'https://a.example' },
        404,
      ],
      [
        {
          NODE_ENV: 'production',
          MFA_ENCRYPTION_KEY: key,
          API_PUBLIC_URL: 'https://a.example',
          API_DOCS_ENABLED: 'true',
        },
        200,
      ],
      [{ NODE_ENV: 'development', API_DOCS_ENABLED: 'false' }, 404],
    ] as const) {
      const app = await buildServer(
        parseEnv(apiEnvSchema, {
          ...base,
          LOG_LEVEL: 'silent',
          REDIS_CONNECT_TIMEOUT_MS: '100',
          PRESSURE_MAX_EVENT_LOOP_DELAY_MS: '0',
          PRESSURE_MAX_EVENT_LOOP_UTILIZATION: '0',
          ...overrides,
        }),
      )
      expect((await app.inject({ url: '/docs/' })).statusCode, JSON.stringify(overrides)).toBe(
        status,
      )
      await app.close()
    }
  })
})
