import { createServer } from 'node:net'
import { useIsolatedServices } from '@repo/testing'
import { Queue } from 'bullmq'
import { afterEach, describe, expect, it } from 'vitest'
import { DEFAULT_QUEUE } from '../src/handlers.ts'
import { startWorkerProcess } from './helpers.ts'

const services = useIsolatedServices()
const started: ReturnType<typeof startWorkerProcess>[] = []

afterEach(() => {
  for (const worker of started.splice(0))
    if (worker.child.exitCode === null) worker.child.kill('SIGKILL')
})

/** The worker's real process with its probe server on a free port; resolves with that port. */
async function startWithProbes(env: NodeJS.ProcessEnv = {}) {
  const worker = startWorkerProcess({
    NODE_ENV: 'test',
    LOG_LEVEL: 'info',
    REDIS_URL: services().redis.url,
    DATABASE_URL: services().database.workerUrl,
    WORKER_HEALTH_PORT: '0',
    READINESS_TIMEOUT_MS: '500',
    ...env,
  })
  started.push(worker)
  let port = 0
  // A worker start: about 2 s alone, far more beside a busy suite.
  await expect
    .poll(
      () => {
        const line = worker
          .output()
          .split('\n')
          .find((entry) => entry.includes('worker health server listening'))
        port = line ? (JSON.parse(line) as { port: number }).port : 0
        return port
      },
      { timeout: 60_000 },
    )
    .toBeGreaterThan(0)
  const probe = async (path: string) => {
    const response = await fetch(`http://127.0.0.1:${port}${path}`)
    return { status: response.status, body: (await response.json()) as Record<string, unknown> }
  }
  return { ...worker, port, probe }
}

describe('worker probes (WORKER_HEALTH_PORT)', () => {
  it('answers /healthz and /readyz with Postgres and Redis up, and 404 elsewhere', async () => {
    const { probe } = await startWithProbes()
    expect(await probe('/healthz')).toEqual({ status: 200, body: { status: 'ok' } })
    await expect
      .poll(() => probe('/readyz'))
      .toEqual({ status: 200, body: { status: 'ready', checks: { postgres: 'up', redis: 'up' } } })
    expect((await probe('/metrics-or-anything')).status).toBe(404)
  })

  it('is not ready, naming Redis, while Redis does not answer; still alive', async () => {
    // A port that accepts nothing: bound, then closed.
    const closed = await new Promise<number>((resolve) => {
      const server = createServer().listen(0, '127.0.0.1', () => {
        const { port } = server.address() as { port: number }
        server.close(() => resolve(port))
      })
    })
    const { probe } = await startWithProbes({ REDIS_URL: `redis://127.0.0.1:${closed}` })
    expect(await probe('/healthz')).toMatchObject({ status: 200 })
    expect(await probe('/readyz')).toEqual({
      status: 503,
      body: {
        status: 'unavailable',
        detail: 'Unavailable: redis.',
        checks: { postgres: 'up', redis: 'down' },
      },
    })
  })

  it('answers 503 draining from SIGTERM until the running job has finished', async () => {
    const worker = await startWithProbes()
    await expect.poll(async () => (await worker.probe('/readyz')).status).toBe(200)
    const queue = new Queue(DEFAULT_QUEUE, { connection: { url: services().redis.url } })
    try {
      const job = await queue.add('system.ping', { workMs: 3_000 })
      await expect
        .poll(async () => (await queue.getJob(job.id as string))?.processedOn, { interval: 20 })
        .toBeDefined()
      worker.child.kill('SIGTERM')
      await expect.poll(async () => (await worker.probe('/readyz')).body.status).toBe('draining')
      expect(await worker.exited).toBe(0)
      expect((await queue.getJob(job.id as string))?.finishedOn).toBeDefined()
    } finally {
      await queue.close()
    }
  })

  it('exits 1 with the reason when its port is taken', async () => {
    const taken = createServer()
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve))
    try {
      const { port } = taken.address() as { port: number }
      const worker = startWorkerProcess({
        NODE_ENV: 'test',
        REDIS_URL: services().redis.url,
        DATABASE_URL: services().database.workerUrl,
        WORKER_HEALTH_PORT: String(port),
      })
      started.push(worker)
      expect(await worker.exited).toBe(1)
      expect(worker.output()).toContain('could not start the health server')
      expect(worker.output()).toContain('EADDRINUSE')
    } finally {
      taken.close()
    }
  })
})
