import { type ChildProcess, spawn } from 'node:child_process'
import { chmodSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs'
import { createRequire } from 'node:module'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import type { TestServices } from '../src/context.ts'
import { isPortInUse } from '../src/servers/index.ts'

// `pnpm test` interrupted midway (Ctrl-C) or killed outright must leave no server
// process and no temporary cluster behind.
const vitestBin = join(
  dirname(createRequire(import.meta.url).resolve('vitest/package.json')),
  'vitest.mjs',
)
const fixtureConfig = join(import.meta.dirname, 'fixtures/interrupted-run/vitest.config.ts')
const scratch = mkdtempSync(join(tmpdir(), 'groundwork-cleanup-test-'))
// As root, Postgres runs as the postgres user, which must be able to enter it.
chmodSync(scratch, 0o755)
const children: ChildProcess[] = []
afterAll(() => {
  // Whatever a failed test left running: its whole process group.
  for (const child of children) {
    try {
      if (child.pid) process.kill(-child.pid, 'SIGKILL')
    } catch {}
  }
  rmSync(scratch, { recursive: true, force: true })
})

type Reported = TestServices & { postgresDir: string; redisDir: string }

async function startHangingRun(name: string) {
  const out = join(scratch, `${name}.json`)
  const child = spawn(process.execPath, [vitestBin, 'run', '--config', fixtureConfig], {
    env: { ...process.env, FIXTURE_OUT: out, GROUNDWORK_TEST_RUNTIME: 'local' },
    detached: true,
    stdio: 'ignore',
  })
  children.push(child)
  const exited = new Promise((done) => child.once('exit', done))
  await expect.poll(() => existsSync(out), { timeout: 60_000, interval: 100 }).toBe(true)
  return { child, exited, services: JSON.parse(readFileSync(out, 'utf8')) as Reported }
}

const portOf = (url: string) => Number(new URL(url).port)

async function expectNothingLeft(services: Reported) {
  await expect
    .poll(
      async () => ({
        postgresListening: await isPortInUse(portOf(services.postgresUrl)),
        redisListening: await isPortInUse(portOf(services.redisUrl)),
        postgresDir: existsSync(services.postgresDir),
        redisDir: existsSync(services.redisDir),
      }),
      { timeout: 20_000, interval: 200 },
    )
    .toEqual({
      postgresListening: false,
      redisListening: false,
      postgresDir: false,
      redisDir: false,
    })
}

describe('test servers are cleaned up', () => {
  it('when the run is interrupted with Ctrl-C (SIGINT to its process group)', async () => {
    const run = await startHangingRun('sigint')
    expect(await isPortInUse(portOf(run.services.postgresUrl))).toBe(true)
    expect(existsSync(run.services.postgresDir)).toBe(true)
    if (run.child.pid) process.kill(-run.child.pid, 'SIGINT')
    await run.exited
    await expectNothingLeft(run.services)
  }, 90_000)

  it('when the run is killed outright (SIGKILL: no teardown runs; the reapers clean up)', async () => {
    const run = await startHangingRun('sigkill')
    if (run.child.pid) process.kill(-run.child.pid, 'SIGKILL')
    await run.exited
    await expectNothingLeft(run.services)
  }, 90_000)
})

describe('a server owner killed while the servers are still starting', () => {
  it('leaves no data dir, log, password file or process behind', async () => {
    const postgresDir = join(scratch, 'pg-killed-in-init')
    const redisDir = join(scratch, 'redis-killed-in-init')
    const child = spawn(
      process.execPath,
      [join(import.meta.dirname, 'fixtures/start-servers.ts'), postgresDir, redisDir],
      {
        detached: true,
        stdio: 'ignore',
      },
    )
    children.push(child)
    const exited = new Promise((done) => child.once('exit', done))
    // The moment the Postgres data dir appears, initdb is running: kill everything then.
    await expect.poll(() => existsSync(postgresDir), { timeout: 30_000, interval: 5 }).toBe(true)
    if (child.pid) process.kill(-child.pid, 'SIGKILL')
    await exited
    await expect
      .poll(() => readdirSync(scratch).filter((name) => name.includes('killed-in-init')), {
        timeout: 20_000,
        interval: 200,
      })
      .toEqual([])
  }, 60_000)
})

describe('a server owner killed after start-up, its files deleted at once', () => {
  it('still has its servers stopped: the reaper remembers their pids', async () => {
    const postgresDir = join(scratch, 'pg-deleted')
    const redisDir = join(scratch, 'redis-deleted')
    const child = spawn(
      process.execPath,
      [join(import.meta.dirname, 'fixtures/start-servers.ts'), postgresDir, redisDir],
      {
        detached: true,
        stdio: ['ignore', 'pipe', 'ignore'],
      },
    )
    children.push(child)
    let output = ''
    child.stdout?.on('data', (chunk) => (output += chunk))
    await expect
      .poll(() => output.includes('redisPort'), { timeout: 30_000, interval: 50 })
      .toBe(true)
    // The launchers return (and the fixture prints) only once each reaper knows its pid.
    const ports = JSON.parse(output.trim()) as { postgresPort: number; redisPort: number }
    if (child.pid) process.kill(-child.pid, 'SIGKILL')
    // What a test's afterAll does right after killing: remove the dirs, pid files included.
    for (const path of [
      postgresDir,
      `${postgresDir}.log`,
      redisDir,
      `${redisDir}.log`,
      `${redisDir}.pid`,
    ]) {
      rmSync(path, { recursive: true, force: true })
    }
    await expect
      .poll(
        async () => ({
          postgres: await isPortInUse(ports.postgresPort),
          redis: await isPortInUse(ports.redisPort),
        }),
        {
          timeout: 20_000,
          interval: 200,
        },
      )
      .toEqual({ postgres: false, redis: false })
  }, 60_000)
})
