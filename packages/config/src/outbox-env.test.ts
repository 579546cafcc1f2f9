import { describe, expect, it } from 'vitest'
import { type EnvError, parseEnv } from './load-env.ts'
import { databaseEnv, outboxSettings, productionChecks, runtimeEnv, workerEnv } from './schemas.ts'

// The outbox relay's wake-ups (ADR 038): the listener is on unless turned off, on the
// worker's own login unless given a session-capable URL of its own, and the relay polls
// slowly while it hears commits, fast while it does not.
const schema = runtimeEnv
  .extend(databaseEnv.shape)
  .extend(workerEnv.shape)
  .superRefine(productionChecks)
const app = 'postgresql://app:secret@db.internal:6432/groundwork'
const worker = 'postgresql://worker:secret@db.internal:6432/groundwork'
const session = 'postgresql://worker:secret@db.internal:6432/groundwork_listen'

const issuesOf = (source: Record<string, string>) => {
  try {
    parseEnv(schema, { NODE_ENV: 'test', DATABASE_URL: app, ...source })
    return []
  } catch (error) {
    return (error as EnvError).issues
  }
}
const settingsOf = (source: Record<string, string>) =>
  outboxSettings(parseEnv(schema, { NODE_ENV: 'test', DATABASE_URL: app, ...source }))

describe('the outbox settings', () => {
  it('listen by default, on the worker login, polling every 5 s as a safety net and every 500 ms without the listener', () => {
    expect(settingsOf({ WORKER_DATABASE_URL: worker })).toEqual({
      listenUrl: worker,
      pollMs: 5_000,
      fallbackPollMs: 500,
    })
    // Without a worker login of its own (development with one login): the app's URL.
    expect(settingsOf({}).listenUrl).toBe(app)
  })

  it('listen on OUTBOX_LISTEN_DATABASE_URL when it is set, and not at all when OUTBOX_LISTEN is off', () => {
    expect(
      settingsOf({ WORKER_DATABASE_URL: worker, OUTBOX_LISTEN_DATABASE_URL: session }).listenUrl,
    ).toBe(session)
    for (const off of ['false', '0'])
      expect(
        settingsOf({ OUTBOX_LISTEN: off, OUTBOX_LISTEN_DATABASE_URL: session }).listenUrl,
      ).toBeUndefined()
    expect(settingsOf({ OUTBOX_POLL_MS: '60000', OUTBOX_FALLBACK_POLL_MS: '250' })).toMatchObject({
      pollMs: 60_000,
      fallbackPollMs: 250,
    })
  })

  it('name what is wrong: a flag that is not one, a URL that is not Postgres, an interval of zero', () => {
    expect(issuesOf({ OUTBOX_LISTEN: 'yes' })).toEqual([expect.stringMatching(/^OUTBOX_LISTEN: /)])
    expect(issuesOf({ OUTBOX_LISTEN_DATABASE_URL: 'redis://127.0.0.1:6379' })).toEqual([
      'OUTBOX_LISTEN_DATABASE_URL: must be a postgres:// or postgresql:// URL',
    ])
    expect(issuesOf({ OUTBOX_POLL_MS: '0', OUTBOX_FALLBACK_POLL_MS: '-5' })).toEqual([
      expect.stringMatching(/^OUTBOX_POLL_MS: /),
      expect.stringMatching(/^OUTBOX_FALLBACK_POLL_MS: /),
    ])
  })

  it('refuse a published development login in production, as for the other database URLs', () => {
    const production = (url: string) =>
      issuesOf({
        NODE_ENV: 'production',
        WORKER_DATABASE_URL: worker,
        OUTBOX_LISTEN_DATABASE_URL: url,
      }).filter((issue) => issue.startsWith('OUTBOX_LISTEN_DATABASE_URL'))
    expect(
      production('postgresql://groundwork_worker_login:groundwork@db.internal:5432/groundwork'),
    ).toEqual([
      'OUTBOX_LISTEN_DATABASE_URL: uses a published development login; production needs its own',
    ])
    expect(production(session)).toEqual([])
  })
})
