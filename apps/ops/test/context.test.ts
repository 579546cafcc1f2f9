import { PassThrough, Writable } from 'node:stream'
import { describe, expect, it } from 'vitest'
import { parseDuration } from '../src/commands/maintenance.ts'
import { firstLine, OpsContext } from '../src/context.ts'
import { opsEnv, readEnv } from '../src/env.ts'
import { EXIT, OpsError } from '../src/errors.ts'

// The CLI's own logic without a database: confirmation on a terminal, who the operator
// is, and the small parsers (the child-process tests cover the rest).
function terminal(answer: string | undefined, tty = true) {
  const stdin = Object.assign(new PassThrough(), { isTTY: tty })
  let asked = ''
  const stderr = new Writable({
    write(chunk, _encoding, done) {
      asked += chunk
      // Answer once the question is on the screen, as a person would.
      if (answer !== undefined) {
        stdin.write(`${answer}\n`)
        answer = undefined
      }
      done()
    },
  })
  const stdout = new Writable({ write: (_c, _e, done) => done() })
  return { io: { stdin, stdout, stderr }, asked: () => asked }
}

const refusalSync = (work: () => unknown) => {
  try {
    work()
  } catch (error) {
    return error instanceof OpsError ? error.exitCode : error
  }
}

const refusal = (promise: Promise<unknown>) =>
  promise.then(
    () => undefined,
    (error: unknown) => (error instanceof OpsError ? error.exitCode : error),
  )

describe('confirmation', () => {
  it('on a terminal, takes exactly the name asked for, and nothing else', async () => {
    const right = terminal('alice@example.com')
    const ctx = new OpsContext(right.io, {}, {})
    await expect(ctx.confirm('Sign alice out?', 'alice@example.com')).resolves.toBeUndefined()
    expect(right.asked()).toContain('Type alice@example.com to confirm')

    for (const answer of ['y', 'ALICE@EXAMPLE.COM', 'alice', '']) {
      const wrong = terminal(answer)
      expect(
        await refusal(
          new OpsContext(wrong.io, {}, {}).confirm('Sign alice out?', 'alice@example.com'),
        ),
        answer,
      ).toBe(EXIT.notConfirmed)
    }
  })

  it('asks y/N when no name is due: yes or y goes, anything else does not', async () => {
    for (const answer of ['y', 'Yes', ' YES '])
      await expect(
        new OpsContext(terminal(answer).io, {}, {}).confirm('Go?'),
      ).resolves.toBeUndefined()
    for (const answer of ['', 'n', 'yep', 'no'])
      expect(
        await refusal(new OpsContext(terminal(answer).io, {}, {}).confirm('Go?')),
        answer,
      ).toBe(EXIT.notConfirmed)
  })

  it('without a terminal refuses unless --yes, and --yes asks nothing', async () => {
    const piped = terminal('y', false)
    expect(await refusal(new OpsContext(piped.io, {}, {}).confirm('Go?'))).toBe(EXIT.notConfirmed)
    expect(piped.asked()).toBe('')
    const yes = terminal(undefined, false)
    await expect(
      new OpsContext(yes.io, {}, { yes: true }).confirm('Go?', 'x'),
    ).resolves.toBeUndefined()
    expect(yes.asked()).toBe('')
  })
})

describe('the operator', () => {
  const io = terminal(undefined).io
  it('is --operator, else OPS_OPERATOR, else (outside production) the login at the terminal', () => {
    expect(new OpsContext(io, { OPS_OPERATOR: 'env' }, { operator: ' flag ' }).operator()).toEqual({
      operator: 'flag',
    })
    expect(new OpsContext(io, { OPS_OPERATOR: 'env' }, {}).operator()).toEqual({ operator: 'env' })
    expect(
      new OpsContext(io, { NODE_ENV: 'development', SUDO_USER: 'bob' }, {}).operator(),
    ).toEqual({ operator: 'bob' })
  })

  it('must be named in production (unset NODE_ENV counts as production), in printable text', () => {
    for (const env of [{ NODE_ENV: 'production' }, {}]) {
      const attempt = () => new OpsContext(io, { ...env, SUDO_USER: 'bob' }, {}).operator()
      expect(attempt).toThrow(/--operator <name> or OPS_OPERATOR/)
    }
    expect(() =>
      new OpsContext(io, { NODE_ENV: 'test' }, { operator: 'eve\u001b[2J' }).operator(),
    ).toThrow(/printable/)
    expect(() => new OpsContext(io, {}, { operator: 'x'.repeat(101) }).operator()).toThrow(/100/)
  })
})

describe('the environment', () => {
  it("connects as the worker's login, which production must name (exit 6 otherwise)", () => {
    const app = 'postgresql://app:pw@db.internal/groundwork'
    const worker = 'postgresql://worker:pw@db.internal/groundwork'
    expect(readEnv(opsEnv.database, { NODE_ENV: 'test', DATABASE_URL: app }).DATABASE_URL).toBe(app)
    expect(
      readEnv(opsEnv.database, {
        NODE_ENV: 'production',
        DATABASE_URL: app,
        WORKER_DATABASE_URL: worker,
      }).DATABASE_URL,
    ).toBe(worker)
    for (const env of [{ NODE_ENV: 'production', DATABASE_URL: app }, {}]) {
      const attempt = () => readEnv(opsEnv.database, env)
      expect(attempt).toThrow(/WORKER_DATABASE_URL/)
      expect(refusalSync(attempt)).toBe(EXIT.config)
    }
  })
})

describe('parsers', () => {
  it('reads window lengths up to 24 hours', () => {
    expect(parseDuration('90s')).toBe(90_000)
    expect(parseDuration('45m')).toBe(45 * 60_000)
    expect(parseDuration('1h30m')).toBe(90 * 60_000)
    expect(parseDuration('24h')).toBe(24 * 3_600_000)
    for (const bad of ['', '0m', '25h', '1d', '10', 'soon', '-5m'])
      expect(() => parseDuration(bad), bad).toThrow(/--for/)
  })

  it("keeps one line of an error, Prisma's wrapped cause included", () => {
    expect(firstLine(new Error('Connection is closed.\n    at Redis.x (file.js:1:2)'))).toBe(
      'Connection is closed',
    )
    expect(
      firstLine(
        new Error(
          "\nInvalid `prisma.$queryRaw()` invocation:\n\n\nRaw query failed. Code: `N/A`. Message: `Can't reach database server at 127.0.0.1:9`",
        ),
      ),
    ).toBe("Can't reach database server at 127.0.0.1:9")
  })
})
