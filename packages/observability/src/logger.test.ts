import { Writable } from 'node:stream'
import { describe, expect, it } from 'vitest'
import { createLogger } from './logger.ts'

function capture() {
  const lines: Record<string, unknown>[] = []
  const destination = new Writable({
    write(chunk, _encoding, done) {
      lines.push(JSON.parse(chunk.toString()))
      done()
    },
  })
  return {
    lines,
    logger: createLogger({
      service: 'test',
      level: 'info',
      pretty: false,
      version: '1.0.0',
      destination,
    }),
  }
}

describe('logger', () => {
  it('writes JSON lines with level, time, service and version', () => {
    const { lines, logger } = capture()
    logger.info({ orgId: 'o1' }, 'hello')
    expect(lines[0]).toMatchObject({
      level: 'info',
      service: 'test',
      version: '1.0.0',
      orgId: 'o1',
      msg: 'hello',
    })
    expect(String(lines[0]?.time)).toMatch(/^\d{4}-\d{2}-\d{2}T/)
  })

  it('redacts credentials wherever they appear', () => {
    const { lines, logger } = capture()
    logger.info({
      password: 'p4ss',
      user: { email: 'a@b.c', password: 'p4ss', token: 't0k' },
      req: { headers: { authorization: 'Bearer abc', cookie: 'sid=1', 'x-api-key': 'k' } },
    })
    const text = JSON.stringify(lines[0])
    expect(text).not.toMatch(/p4ss|t0k|Bearer abc|sid=1|"k"/)
    expect(lines[0]).toMatchObject({
      password: '[redacted]',
      user: { email: 'a@b.c', password: '[redacted]' },
    })
  })

  it('respects the level', () => {
    const { lines, logger } = capture()
    logger.debug('hidden')
    expect(lines).toHaveLength(0)
  })
})
