// `pnpm containers:build` builds the three app images; `pnpm containers:test` builds them
// and runs docker-compose.yml's full stack from them with a smoke test, then tears it all
// down. Docker or Podman (scripts/containers/engine.ts); base images are pulled, or built
// locally where no registry answers (scripts/containers/base-images.ts).

import { execFileSync } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { freePort } from '@repo/testing/servers'
import { answers, waitUntil } from '@repo/testing/wait'
import { Redis } from 'ioredis'
import pg from 'pg'
import { type BaseImages, ensureBaseImages, repoRoot } from './base-images.ts'
import {
  buildFlags,
  CommandError,
  detectEngine,
  type Engine,
  imageSize,
  run,
  runHealthChecks,
  withEngineApi,
} from './engine.ts'

const APPS = ['api', 'worker', 'web'] as const
const say = (message: string) => console.log(`[containers] ${message}`)

function gitCommit(): string {
  if (process.env.GIT_COMMIT) return process.env.GIT_COMMIT
  try {
    return execFileSync('git', ['rev-parse', 'HEAD'], { cwd: repoRoot, encoding: 'utf8' }).trim()
  } catch {
    return 'unknown'
  }
}

export interface BuiltImages {
  tag: string
  commit: string
  version: string
  base: BaseImages
  sizes: Record<(typeof APPS)[number], number>
}

/** Builds groundwork-api, -worker and -web, tagged by commit; returns their sizes. */
export async function buildAppImages(engine: Engine): Promise<BuiltImages> {
  const { images: base, local } = await ensureBaseImages(engine)
  const commit = gitCommit()
  const version = process.env.APP_VERSION ?? '0.0.0'
  const tag = process.env.GROUNDWORK_IMAGE_TAG ?? commit.slice(0, 12)
  const sizes = {} as BuiltImages['sizes']
  for (const app of APPS) {
    const image = `groundwork-${app}:${tag}`
    const started = Date.now()
    say(`building ${image} (base ${base.NODE_IMAGE})`)
    await run(
      engine.cli,
      [
        'build',
        ...buildFlags(engine, { local }),
        '--file',
        join('apps', app, 'Dockerfile'),
        '--build-arg',
        `NODE_IMAGE=${base.NODE_IMAGE}`,
        '--build-arg',
        `APP_VERSION=${version}`,
        '--build-arg',
        `GIT_COMMIT=${commit}`,
        // Where base images are local stand-ins, PostgreSQL's apt repository is out of
        // reach too: the worker takes Debian's pg_dump (ADR 028).
        ...(local ? ['--build-arg', 'PG_CLIENT_SOURCE=debian'] : []),
        '--tag',
        image,
        '.',
      ],
      { cwd: repoRoot, timeoutMs: 1_200_000, stream: process.env.CONTAINERS_VERBOSE === '1' },
    )
    sizes[app] = await imageSize(engine, image)
    say(
      `built ${image}: ${(sizes[app] / 1e6).toFixed(0)} MB in ${((Date.now() - started) / 1000).toFixed(0)} s`,
    )
  }
  return { tag, commit, version, base, sizes }
}

interface MaildevEmail {
  subject: string
  to: { address: string }[]
  text?: string
}

/** Runs the full stack from the built images, smoke-tests it, and always tears it down. */
export async function smokeTest(
  engine: Engine,
  built: BuiltImages,
  engineEnv: NodeJS.ProcessEnv,
): Promise<void> {
  const ports = {
    POSTGRES_PORT: await freePort(),
    REDIS_PORT: await freePort(),
    SMTP_SINK_WEB_PORT: await freePort(),
    API_PORT: await freePort(),
    WORKER_HEALTH_PUBLISHED_PORT: await freePort(),
    WEB_PORT: await freePort(),
  }
  const secret = () => randomBytes(18).toString('base64url')
  const env = {
    ...engineEnv,
    ...built.base,
    ...Object.fromEntries(Object.entries(ports).map(([key, value]) => [key, String(value)])),
    GROUNDWORK_IMAGE_TAG: built.tag,
    APP_VERSION: built.version,
    GIT_COMMIT: built.commit,
    POSTGRES_USER: 'postgres',
    POSTGRES_PASSWORD: secret(),
    POSTGRES_DB: 'groundwork',
    APP_DB_PASSWORD: secret(),
    WORKER_DB_PASSWORD: secret(),
    MFA_ENCRYPTION_KEY: randomBytes(32).toString('base64'),
    APP_URL: `http://localhost:${ports.WEB_PORT}`,
    API_PUBLIC_URL: `http://localhost:${ports.API_PORT}`,
    LOG_LEVEL: 'info',
  }
  const project = `groundwork-smoke-${process.pid}`
  const emptyEnvFile = join(tmpdir(), `${project}.env`)
  writeFileSync(emptyEnvFile, '')
  const compose = (args: string[], options: { timeoutMs?: number } = {}) =>
    run(
      engine.compose[0] as string,
      [
        ...engine.compose.slice(1),
        '--project-name',
        project,
        '--file',
        'docker-compose.yml',
        // Not a developer's .env: the smoke test's own values only.
        '--env-file',
        emptyEnvFile,
        '--profile',
        'full',
        ...args,
      ],
      { cwd: repoRoot, env, timeoutMs: options.timeoutMs ?? 300_000 },
    )
  const services = ['postgres', 'redis', 'smtp', 'migrate', 'api', 'worker', 'web']

  const stopHealthChecks = runHealthChecks(engine, project)
  let torndown = false
  const teardown = async () => {
    if (torndown) return
    torndown = true
    stopHealthChecks()
    say('tearing the stack down')
    await compose(['down', '--volumes', '--timeout', '10']).catch((error) =>
      say(`teardown: ${String(error)}`),
    )
    rmSync(emptyEnvFile, { force: true })
  }
  const onSignal = () => {
    void teardown().finally(() => process.exit(130))
  }
  process.once('SIGINT', onSignal)
  process.once('SIGTERM', onSignal)

  try {
    // Compose starts each service once what it depends on is healthy (or, for the
    // migration step, has completed), exactly as the file says.
    say(`starting the full stack (project ${project})`)
    const started = Date.now()
    await compose(['up', '--detach'], { timeoutMs: 600_000 })
    say(`compose up returned after ${((Date.now() - started) / 1000).toFixed(0)} s`)
    const migrated = await compose(['logs', 'migrate'])
    if (!/login "worker_login" is a member of groundwork_worker/.test(migrated))
      throw new Error(`the migration step did not provision the logins:\n${migrated}`)
    const waitAt = (what: string, check: () => Promise<boolean>, timeoutMs = 120_000) =>
      waitUntil(check, { what, timeoutMs, intervalMs: 500 })
    await waitAt('Postgres to accept its owner on its published port', async () => {
      const client = new pg.Client({
        connectionString: `postgresql://postgres:${env.POSTGRES_PASSWORD}@127.0.0.1:${ports.POSTGRES_PORT}/groundwork`,
        connectionTimeoutMillis: 2_000,
      })
      await client.connect()
      await client.end()
      return true
    })
    await waitAt('Redis to answer PING on its published port', async () => {
      const redis = new Redis(ports.REDIS_PORT, '127.0.0.1', {
        lazyConnect: true,
        connectTimeout: 2_000,
        maxRetriesPerRequest: 0,
        retryStrategy: () => null,
      })
      try {
        await redis.connect()
        return (await redis.ping()) === 'PONG'
      } finally {
        redis.disconnect()
      }
    })
    const api = (path: string) => `http://127.0.0.1:${ports.API_PORT}${path}`
    await waitAt('api /readyz to be 200', () => answers(api('/readyz')))
    await waitAt('worker /readyz to be 200', () =>
      answers(`http://127.0.0.1:${ports.WORKER_HEALTH_PUBLISHED_PORT}/readyz`),
    )
    await waitAt('web /healthz to be 200', () =>
      answers(`http://127.0.0.1:${ports.WEB_PORT}/healthz`),
    )

    const version = (await (
      await fetch(api('/version'), { signal: AbortSignal.timeout(10_000) })
    ).json()) as Record<string, string>
    expect(
      version.commit === built.commit,
      `/version names the commit (got ${JSON.stringify(version)})`,
    )

    const email = `smoke-${randomBytes(4).toString('hex')}@example.com`
    const password = `Smoke-${secret()}`
    const post = (path: string, body: unknown) =>
      fetch(api(path), {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
        signal: AbortSignal.timeout(30_000),
      })
    const signUp = await post('/v1/auth/sign-up', { email, password, name: 'Smoke Test' })
    expect(
      signUp.status === 201,
      `sign-up answers 201 (got ${signUp.status}: ${await signUp.clone().text()})`,
    )
    const signIn = await post('/v1/auth/sign-in', { email, password })
    const session = (await signIn.json()) as { token?: string }
    expect(
      signIn.status === 200 && !!session.token,
      `sign-in answers 200 with a token (got ${signIn.status})`,
    )
    const me = await fetch(api('/v1/auth/me'), {
      headers: { authorization: `Bearer ${session.token}` },
      signal: AbortSignal.timeout(10_000),
    })
    const meBody = (await me.json()) as { email?: string; user?: { email?: string } }
    expect(
      me.status === 200 && (meBody.email ?? meBody.user?.email) === email,
      `the session reads its user back (got ${me.status}: ${JSON.stringify(meBody)})`,
    )

    let verification: MaildevEmail | undefined
    await waitAt(
      'the verification email to reach the SMTP sink through the worker',
      async () => {
        const emails = (await (
          await fetch(sinkUrl('/email'), { signal: AbortSignal.timeout(5_000) })
        ).json()) as MaildevEmail[]
        verification = emails.find((message) => message.to.some((to) => to.address === email))
        return verification !== undefined
      },
      60_000,
    )
    say(`email caught by the sink: "${verification?.subject}"`)

    const signInPage = await fetch(`http://127.0.0.1:${ports.WEB_PORT}/sign-in`, {
      signal: AbortSignal.timeout(30_000),
    })
    const html = await signInPage.text()
    expect(
      signInPage.status === 200 && /Sign in/i.test(html),
      `the web app's sign-in page is 200 (got ${signInPage.status})`,
    )
    say("smoke test passed: readyz, sign-up, sign-in, the worker's email, the sign-in page")
  } catch (error) {
    await printLogs(compose, services)
    throw error
  } finally {
    await teardown()
    process.off('SIGINT', onSignal)
    process.off('SIGTERM', onSignal)
  }

  function sinkUrl(path: string) {
    return `http://127.0.0.1:${ports.SMTP_SINK_WEB_PORT}${path}`
  }
}

function expect(condition: boolean, message: string): asserts condition {
  if (!condition) throw new Error(`smoke test failed: ${message}`)
}

async function printLogs(compose: (args: string[]) => Promise<string>, services: string[]) {
  for (const service of services) {
    const logs = await compose(['logs', '--tail', '60', service]).catch((error: unknown) =>
      error instanceof CommandError ? error.output : String(error),
    )
    console.error(`----- ${service} -----\n${logs.trim()}`)
  }
}

/**
 * The test servers' container path, proven on this engine: the test helpers' and the
 * database package's own tests, with GROUNDWORK_TEST_RUNTIME=container, through the
 * engine's Docker-compatible API (Podman serves one on a socket started here and stopped
 * after), with the images docker-compose.yml names or their local stand-ins.
 */
export async function testcontainersPath(engine: Engine): Promise<void> {
  const { images } = await ensureBaseImages(engine)
  const env: NodeJS.ProcessEnv = {
    GROUNDWORK_TEST_RUNTIME: 'container',
    GROUNDWORK_POSTGRES_IMAGE: images.POSTGRES_IMAGE,
    GROUNDWORK_REDIS_IMAGE: images.REDIS_IMAGE,
    // Keep test traffic on loopback.
    TESTCONTAINERS_HOST_OVERRIDE: '127.0.0.1',
  }
  await withEngineApi(engine, async (engineEnv) => {
    // Ryuk's image cannot be pulled where no registry answers; the tests stop their own.
    const ryuk = engine.cli === 'podman' ? { TESTCONTAINERS_RYUK_DISABLED: 'true' } : {}
    say(
      `testcontainers through ${engineEnv.DOCKER_HOST ?? 'the Docker engine'}: ${images.POSTGRES_IMAGE}, ${images.REDIS_IMAGE}`,
    )
    // Not the files that never meet a shared test server, which `pnpm test` has run: the
    // cleanup fixtures force local servers, PITR starts a cluster of its own, and port
    // allocation, S3 backups and client generation use none (about 2 minutes on 2 cores).
    const notServers = ['cleanup', 'pitr', 'ports', 'backup-s3', 'prisma-generate']
    const exclude = notServers.flatMap((name) => ['--exclude', `**/${name}.test.ts`])
    await run('pnpm', ['exec', 'vitest', 'run', 'packages/testing', 'packages/db', ...exclude], {
      cwd: repoRoot,
      env: { ...engineEnv, ...env, ...ryuk },
      stream: true,
      timeoutMs: 900_000,
    })
  })
}

async function main(command: string | undefined) {
  const engine = await detectEngine()
  say(`engine: ${engine.cli}, compose: ${engine.compose.join(' ')}`)
  if (command === 'build' || command === 'test') {
    const built = await buildAppImages(engine)
    if (command === 'test') await withEngineApi(engine, (env) => smokeTest(engine, built, env))
    console.log(
      JSON.stringify({
        tag: built.tag,
        base: built.base,
        sizesMB: Object.fromEntries(
          Object.entries(built.sizes).map(([app, bytes]) => [app, Math.round(bytes / 1e6)]),
        ),
      }),
    )
    return
  }
  if (command === 'testcontainers') {
    await testcontainersPath(engine)
    return
  }
  if (command === 'base') {
    console.log(JSON.stringify(await ensureBaseImages(engine)))
    return
  }
  throw new Error('usage: node scripts/containers/main.ts <build | test | testcontainers | base>')
}

if (import.meta.main) {
  const started = Date.now()
  main(process.argv[2]).then(
    () => say(`done in ${((Date.now() - started) / 1000).toFixed(0)} s`),
    (error: unknown) => {
      console.error(`[containers] ${error instanceof Error ? error.message : String(error)}`)
      process.exitCode = 1
    },
  )
}
