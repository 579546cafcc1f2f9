import { spawn } from 'node:child_process'
import { join } from 'node:path'
import { POISON, poisonIn } from '@repo/testing'
import { describe, expect, it } from 'vitest'

// The web server's logger as the server runs it: a process of its own with the
// react-server condition, writing JSON to stdout, which the test reads back whole.
function runFixture(env: Record<string, string> = {}) {
  const child = spawn(
    process.execPath,
    ['--conditions=react-server', join(import.meta.dirname, 'fixtures', 'log-poisoned.ts')],
    {
      cwd: join(import.meta.dirname, '..'),
      env: {
        PATH: process.env.PATH,
        NODE_ENV: 'test',
        LOG_LEVEL: 'info',
        APP_VERSION: '9.9.9',
        SENTRY_ENVIRONMENT: 'staging',
        ...env,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  )
  let stdout = ''
  let stderr = ''
  child.stdout.on('data', (chunk) => (stdout += chunk))
  child.stderr.on('data', (chunk) => (stderr += chunk))
  return new Promise<{ stdout: string; lines: Record<string, unknown>[] }>((resolve, reject) =>
    child.once('close', (code) =>
      code === 0
        ? resolve({
            stdout,
            lines: stdout
              .split('\n')
              .filter(Boolean)
              .map((line) => JSON.parse(line)),
          })
        : reject(new Error(`fixture exited ${code}: ${stderr}`)),
    ),
  )
}

describe("the web server's logger", () => {
  it('writes JSON lines with no secret or email from a poisoned record', async () => {
    const { stdout, lines } = await runFixture()
    expect(poisonIn(stdout)).toEqual([])
    expect(lines[0]).toMatchObject({
      service: 'web',
      version: '9.9.9',
      environment: 'staging',
      harmless: 'visible-field',
      password: '[redacted]',
      user: { email: '[email]' },
      headers: { authorization: '[redacted]', cookie: '[redacted]' },
      msg: 'rendering for [email]',
    })
    expect(lines[0]).not.toHaveProperty('traceId')
    expect(lines[1]).toMatchObject({
      level: 'error',
      err: { message: 'session refresh failed: refresh_token=[redacted]' },
    })
    expect(lines[2]).toMatchObject({
      msg: 'inside a span',
      requestId: 'web-request-1',
      traceId: expect.stringMatching(/^[0-9a-f]{32}$/),
    })
  })

  it('keeps emails only when LOG_EMAILS says so', async () => {
    const { stdout } = await runFixture({ LOG_EMAILS: 'true' })
    expect(stdout).toContain(POISON.email)
    expect(poisonIn(stdout)).toEqual([POISON.email])
  })
})
