import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { isLocalUrl, loadDevEnv } from './dev-env.ts'
import { devDefaults } from './schemas.ts'

const dir = mkdtempSync(join(tmpdir(), 'groundwork-dev-env-'))
const envFile = join(dir, '.env')
const noFile = join(dir, 'absent.env')
afterAll(() => rmSync(dir, { recursive: true, force: true }))

describe('loadDevEnv', () => {
  it('gives a fresh clone (no .env, nothing set) the URLs pnpm dev serves', () => {
    const env: Record<string, string | undefined> = {}
    loadDevEnv(env, noFile)
    expect(env).toEqual(devDefaults)
  })

  it('takes .env over the defaults, and what is set over .env', () => {
    writeFileSync(
      envFile,
      'REDIS_URL=redis://127.0.0.1:6390\nDATABASE_URL=postgresql://app:pw@127.0.0.1:5440/app\nAPI_PORT=4100\n',
    )
    const env: Record<string, string | undefined> = { API_PORT: '4200' }
    loadDevEnv(env, envFile)
    expect(env.REDIS_URL).toBe('redis://127.0.0.1:6390')
    expect(env.API_PORT).toBe('4200')
    expect(env.MIGRATION_DATABASE_URL).toBe(devDefaults.MIGRATION_DATABASE_URL)
    // The worker's login, on the server and database DATABASE_URL names.
    expect(env.WORKER_DATABASE_URL).toBe(
      'postgresql://groundwork_worker_login:groundwork@127.0.0.1:5440/app',
    )
  })

  it('treats an empty value as unset, so .env and then the default fill it', () => {
    writeFileSync(envFile, 'REDIS_URL=redis://127.0.0.1:6391\n')
    const fromFile: Record<string, string | undefined> = { REDIS_URL: '' }
    loadDevEnv(fromFile, envFile)
    expect(fromFile.REDIS_URL).toBe('redis://127.0.0.1:6391')
    const fromDefault: Record<string, string | undefined> = { REDIS_URL: '' }
    loadDevEnv(fromDefault, noFile)
    expect(fromDefault.REDIS_URL).toBe(devDefaults.REDIS_URL)
  })

  it('defaults nothing in production: every variable must be set there', () => {
    const env: Record<string, string | undefined> = { NODE_ENV: 'production' }
    loadDevEnv(env, noFile)
    expect(env).toEqual({ NODE_ENV: 'production' })
  })

  it('leaves a malformed DATABASE_URL for validation to report', () => {
    const env: Record<string, string | undefined> = { DATABASE_URL: 'not a url' }
    loadDevEnv(env, noFile)
    expect(env.DATABASE_URL).toBe('not a url')
    expect(env.WORKER_DATABASE_URL).toBe(devDefaults.WORKER_DATABASE_URL)
  })
})

describe('isLocalUrl', () => {
  it('knows this machine from others', () => {
    expect(isLocalUrl('postgresql://a:b@127.0.0.1:5432/db')).toBe(true)
    expect(isLocalUrl('postgresql://a:b@localhost/db')).toBe(true)
    expect(isLocalUrl('postgresql://a:b@[::1]:5432/db')).toBe(true)
    expect(isLocalUrl('postgresql://a:b@db.example.com/db')).toBe(false)
    expect(isLocalUrl('postgresql://a:b@127.0.0.1.example.com/db')).toBe(false)
  })
})
