import { describe, expect, it } from 'vitest'
import { z } from 'zod'
import { EnvError, parseEnv } from './load-env.ts'
import { apiServerEnv, databaseEnv, loggingEnv, redisEnv } from './schemas.ts'

const appEnv = databaseEnv
  .extend(redisEnv.shape)
  .extend(apiServerEnv.shape)
  .extend(loggingEnv.shape)

describe('parseEnv', () => {
  it('applies defaults and coerces numbers and flags', () => {
    const env = parseEnv(appEnv, {
      DATABASE_URL: 'postgresql://app:pw@127.0.0.1:5432/app',
      REDIS_URL: 'redis://127.0.0.1:6379',
      API_PORT: '4100',
      LOG_PRETTY: 'true',
    })
    expect(env.API_PORT).toBe(4100)
    expect(env.DATABASE_POOL_MAX).toBe(10)
    expect(env.LOG_PRETTY).toBe(true)
    expect(env.LOG_LEVEL).toBe('info')
  })

  it('leaves named statements on unless DATABASE_NAMED_STATEMENTS turns them off (ADR 049)', () => {
    const url = 'postgresql://app:pw@127.0.0.1:5432/app'
    expect(parseEnv(databaseEnv, { DATABASE_URL: url }).DATABASE_NAMED_STATEMENTS).not.toBe(false)
    expect(
      parseEnv(databaseEnv, { DATABASE_URL: url, DATABASE_NAMED_STATEMENTS: 'false' })
        .DATABASE_NAMED_STATEMENTS,
    ).toBe(false)
    expect(() =>
      parseEnv(databaseEnv, { DATABASE_URL: url, DATABASE_NAMED_STATEMENTS: 'maybe' }),
    ).toThrow(/DATABASE_NAMED_STATEMENTS/)
  })

  it('lists every problem at once, naming each variable', () => {
    let caught: unknown
    try {
      parseEnv(appEnv, { DATABASE_URL: 'mysql://x', API_PORT: 'ninety', LOG_LEVEL: 'loud' })
    } catch (error) {
      caught = error
    }
    expect(caught).toBeInstanceOf(EnvError)
    const issues = (caught as EnvError).issues
    expect(issues).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^DATABASE_URL: must be a postgres/),
        'REDIS_URL: is required',
        expect.stringMatching(/^API_PORT: /),
        expect.stringMatching(/^LOG_LEVEL: /),
      ]),
    )
    expect(issues).toHaveLength(4)
  })

  it('treats empty strings as unset so defaults apply', () => {
    const env = parseEnv(z.object({ LOG_LEVEL: loggingEnv.shape.LOG_LEVEL }), { LOG_LEVEL: '' })
    expect(env.LOG_LEVEL).toBe('info')
  })

  it('rejects out-of-range ports', () => {
    expect(() => parseEnv(apiServerEnv, { API_PORT: '70000' })).toThrowError(/API_PORT/)
  })
})
