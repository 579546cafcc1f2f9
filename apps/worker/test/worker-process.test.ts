import { spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { startTelemetrySink, useIsolatedServices } from '@repo/testing'
import { Queue, QueueEvents } from 'bullmq'
import { describe, expect, it } from 'vitest'
import { DEFAULT_QUEUE } from '../src/handlers.ts'

const workerDir = fileURLToPath(new URL('..', import.meta.url))
const services = useIsolatedServices()

describe('worker process', () => {
  it('consumes jobs, then on SIGTERM finishes and exits 0', async () => {
    const { url } = services().redis
    const child = spawn(process.execPath, ['src/main.ts'], {
      cwd: workerDir,
      env: {
        PATH: process.env.PATH,
        NODE_ENV: 'test',
        LOG_LEVEL: 'info',
        REDIS_URL: url,
        DATABASE_URL: services().database.workerUrl,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let output = ''
    child.stdout.on('data', (chunk) => (output += chunk))
    child.stderr.on('data', (chunk) => (output += chunk))
    const exited = new Promise<number | null>((resolve) => child.once('exit', resolve))

    const queue = new Queue(DEFAULT_QUEUE, { connection: { url } })
    const events = new QueueEvents(DEFAULT_QUEUE, { connection: { url } })
    try {
      const job = await queue.add('system.ping', {})
      expect(await job.waitUntilFinished(events, 15_000)).toMatchObject({ pong: true })
      child.kill('SIGTERM')
      expect(await exited).toBe(0)
      expect(output).toContain('"msg":"worker stopped"')
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL')
      await events.close()
      await queue.close()
    }
  })

  it('exits 1 naming the missing variable when REDIS_URL is absent', async () => {
    const child = spawn(process.execPath, ['src/main.ts'], {
      cwd: workerDir,
      env: { PATH: process.env.PATH, NODE_ENV: 'test' },
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let output = ''
    child.stderr.on('data', (chunk) => (output += chunk))
    expect(await new Promise((resolve) => child.once('exit', resolve))).toBe(1)
    expect(output).toContain('REDIS_URL: is required')
  })

  it("refuses to run on the API's database login, which cannot publish the outbox", async () => {
    const child = spawn(process.execPath, ['src/main.ts'], {
      cwd: workerDir,
      env: {
        PATH: process.env.PATH,
        NODE_ENV: 'test',
        REDIS_URL: services().redis.url,
        DATABASE_URL: services().database.appUrl,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let output = ''
    child.stdout.on('data', (chunk) => (output += chunk))
    child.stderr.on('data', (chunk) => (output += chunk))
    expect(await new Promise((resolve) => child.once('exit', resolve))).toBe(1)
    expect(output).toContain('is not a member of the groundwork_worker role')
    expect(output).toContain('Set WORKER_DATABASE_URL to the worker login')
  })

  it('on an uncaught exception: finishes the running job, reports the error to Sentry, exits 1', async () => {
    const { url } = services().redis
    const sink = await startTelemetrySink()
    const child = spawn(
      process.execPath,
      ['--import', './test/fixtures/crash-on-sigwinch.mjs', 'src/main.ts'],
      {
        cwd: workerDir,
        env: {
          PATH: process.env.PATH,
          NODE_ENV: 'test',
          LOG_LEVEL: 'info',
          REDIS_URL: url,
          DATABASE_URL: services().database.workerUrl,
          SENTRY_DSN: sink.sentryDsn,
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    )
    let output = ''
    child.stdout.on('data', (chunk) => (output += chunk))
    child.stderr.on('data', (chunk) => (output += chunk))
    const exited = new Promise<number | null>((resolve) => child.once('exit', resolve))
    const queue = new Queue(DEFAULT_QUEUE, { connection: { url } })
    const events = new QueueEvents(DEFAULT_QUEUE, { connection: { url } })
    try {
      const job = await queue.add('system.ping', { workMs: 1_500 })
      await expect.poll(() => job.getState(), { timeout: 15_000 }).toBe('active')
      child.kill('SIGWINCH')
      // The job running when the error struck is finished, not abandoned to stall.
      expect(await job.waitUntilFinished(events, 15_000)).toMatchObject({ pong: true })
      expect(await exited).toBe(1)
      expect(output).toContain('shutting down after a fatal error')
      expect(output).toContain('"msg":"worker stopped"')
      // Sentry was flushed before the exit: the error reached it.
      await sink.waitFor((req) => req.body.includes('fixture: an exception nothing caught'))
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL')
      await events.close()
      await queue.close()
      await sink.close()
    }
  })
})
