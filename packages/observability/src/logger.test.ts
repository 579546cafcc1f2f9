import { captureLogs, POISON, poisonedRecord, poisonIn, registerTestTracer } from '@repo/testing'
import { afterAll, describe, expect, it } from 'vitest'
import { addToLogContext, runWithLogContext } from './log-context.ts'
import { createLogger, type LoggerConfig } from './logger.ts'
import { acceptRequestId } from './request-id.ts'

function capture(config: Partial<LoggerConfig> = {}) {
  const output = captureLogs()
  const logger = createLogger({
    service: 'test',
    level: 'info',
    pretty: false,
    version: '1.0.0',
    environment: 'staging',
    destination: output.destination,
    ...config,
  })
  return { ...output, logger }
}

const tracing = registerTestTracer()
afterAll(() => tracing.stop())

describe('logger', () => {
  it('writes JSON lines with level, time, service, version and environment', () => {
    const { lines, logger } = capture()
    logger.info({ orgId: 'o1' }, 'hello')
    expect(lines()[0]).toMatchObject({
      level: 'info',
      service: 'test',
      version: '1.0.0',
      environment: 'staging',
      orgId: 'o1',
      msg: 'hello',
    })
    expect(String(lines()[0]?.time)).toMatch(/^\d{4}-\d{2}-\d{2}T/)
  })

  it('redacts secrets and emails at every depth, in messages and in errors', () => {
    const { text, lines, logger } = capture()
    const record = poisonedRecord()
    logger.info(record, `signed in ${POISON.email} with password=${POISON.password}`)
    logger.error(new Error(`reset failed for Bearer ${POISON.bearer}`))
    logger.child({ apiKey: POISON.apiKey }).warn('child of a poisoned binding')
    expect(poisonIn(text())).toEqual([])
    const [first, second, third] = lines()
    expect(first).toMatchObject({
      harmless: 'visible-field',
      password: '[redacted]',
      user: {
        email: '[email]',
        credentials: '[redacted]',
      },
      headers: { authorization: '[redacted]', cookie: '[redacted]', 'x-api-key': '[redacted]' },
      mfa: { totpCode: '[redacted]' },
      list: [{ deeper: { sessionToken: '[redacted]', clientSecret: '[redacted]' } }],
      endpoint: { webhookSigningSecret: '[redacted]' },
      note: 'contact [email] about it',
      err: { type: 'Error', message: 'refresh failed: token=[redacted]' },
      msg: 'signed in [email] with password=[redacted]',
    })
    expect(String((first?.err as { stack?: string } | undefined)?.stack)).toMatch(
      /logger\.test\.ts/,
    )
    expect(second).toMatchObject({
      err: { type: 'Error' },
      msg: 'reset failed for Bearer [redacted]',
    })
    expect(third).toMatchObject({ apiKey: '[redacted]', msg: 'child of a poisoned binding' })
    // The caller's object is left as it was.
    expect(record.password).toBe(POISON.password)
  })

  it('keeps emails when LOG_EMAILS allows them, and still redacts credentials', () => {
    const { lines, logger } = capture({ allowEmails: true })
    logger.info({ email: POISON.email, token: POISON.sessionToken }, `for ${POISON.email}`)
    expect(lines()[0]).toMatchObject({
      email: POISON.email,
      token: '[redacted]',
      msg: `for ${POISON.email}`,
    })
  })

  it("redacts the API's own credential fields: MFA, recovery and OAuth codes, but not error codes", () => {
    const { lines, logger } = capture()
    // The bodies of POST /v1/auth/mfa/verify and /mfa/recovery as the schemas name them,
    // and the OAuth callback's query.
    logger.info(
      {
        mfa: { body: { challengeToken: 'c1', code: '492039' } },
        recovery: { body: { code: 'k3v9-2xq7' } },
        oauth: { query: { code: '4/0AeaYSHB-xyz', state: 's1' } },
        err: { code: 'ECONNREFUSED' },
        prisma: { code: 'P2002' },
        problem: { code: 'signup_paused' },
      },
      'GET /v1/auth/oauth/github/callback?code=gho_abc123&state=xyz789',
    )
    const [line] = lines()
    expect(line).toMatchObject({
      mfa: { body: { challengeToken: '[redacted]', code: '[redacted]' } },
      recovery: { body: { code: '[redacted]' } },
      oauth: { query: { code: '[redacted]' } },
      err: { code: 'ECONNREFUSED' },
      prisma: { code: 'P2002' },
      problem: { code: 'signup_paused' },
      msg: 'GET /v1/auth/oauth/github/callback?code=[redacted]&state=[redacted]',
    })
    for (const secret of ['492039', 'k3v9-2xq7', '4/0AeaYSHB', 'gho_abc123', 'xyz789'])
      expect(JSON.stringify(line)).not.toContain(secret)
  })

  it('survives cycles and bytes', () => {
    const { lines, logger } = capture()
    const cyclic: Record<string, unknown> = { name: 'loop' }
    cyclic.self = cyclic
    logger.info({ cyclic, key: new Uint8Array([1, 2, 3]) }, 'odd shapes')
    expect(lines()[0]).toMatchObject({
      cyclic: { name: 'loop', self: '[circular]' },
      key: '[binary]',
    })
  })

  it('stamps the request context and the active span, and omits what is not there', () => {
    const { lines, logger } = capture()
    logger.info('outside')
    runWithLogContext({ requestId: 'req-1' }, () => {
      logger.info('before auth')
      addToLogContext({ organizationId: 'org-1', userId: 'user-1' })
      tracing.tracer.startActiveSpan('work', (span) => {
        logger.info('in a span')
        span.end()
      })
    })
    const [outside, beforeAuth, inSpan] = lines()
    for (const key of ['requestId', 'organizationId', 'userId', 'traceId', 'spanId'])
      expect(outside).not.toHaveProperty(key)
    expect(beforeAuth).toMatchObject({ requestId: 'req-1' })
    expect(beforeAuth).not.toHaveProperty('userId')
    expect(beforeAuth).not.toHaveProperty('traceId')
    expect(inSpan).toMatchObject({
      requestId: 'req-1',
      organizationId: 'org-1',
      userId: 'user-1',
      traceId: expect.stringMatching(/^[0-9a-f]{32}$/),
      spanId: expect.stringMatching(/^[0-9a-f]{16}$/),
    })
  })

  it('respects the level', () => {
    const { lines, logger } = capture()
    logger.debug('hidden')
    expect(lines()).toHaveLength(0)
  })
})

describe('request ids', () => {
  it('accepts a plain id and replaces a hostile or missing one', () => {
    expect(acceptRequestId('abc-123_x.y:z')).toBe('abc-123_x.y:z')
    for (const hostile of [
      'x'.repeat(129),
      'ok\nforged log line',
      '"}],"admin":true',
      '<script>alert(1)</script>',
      "1' OR '1'='1",
      '',
      undefined,
      ['a', 'b'],
    ]) {
      const id = acceptRequestId(hostile)
      expect(id).not.toBe(hostile)
      expect(id).toMatch(/^[0-9a-f-]{36}$/)
    }
  })
})
