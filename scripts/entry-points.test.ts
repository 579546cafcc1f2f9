import { spawn } from 'node:child_process'
import { resolve } from 'node:path'
import { STACK_FRAME } from '@repo/testing'
import { describe, expect, it } from 'vitest'

// Every process a developer or operator starts validates its environment first and, when
// it is wrong, prints the readable list of what is wrong and exits 1: never a stack trace.
// (The web server's own check runs against its production build, in apps/web/test.)
const repoRoot = resolve(import.meta.dirname, '..')

async function run(script: string[], env: NodeJS.ProcessEnv) {
  const child = spawn(process.execPath, script, {
    cwd: repoRoot,
    // Nothing inherited: what a fresh shell with only these variables would give.
    env: { PATH: process.env.PATH, HOME: process.env.HOME, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let output = ''
  child.stdout?.on('data', (chunk) => (output += chunk))
  child.stderr?.on('data', (chunk) => (output += chunk))
  const code = await new Promise<number | null>((done) => child.once('exit', done))
  return { code, output }
}

const entryPoints: {
  name: string
  script: string[]
  env: NodeJS.ProcessEnv
  names: string[]
}[] = [
  {
    name: 'api server, variables malformed',
    script: ['apps/api/src/server.ts'],
    env: { DATABASE_URL: 'mysql://db/app', REDIS_URL: 'localhost:6379', API_PORT: 'ninety' },
    names: ['DATABASE_URL', 'REDIS_URL', 'API_PORT'],
  },
  {
    name: 'api server, variables missing',
    script: ['apps/api/src/server.ts'],
    env: {},
    names: ['DATABASE_URL: is required', 'REDIS_URL: is required'],
  },
  {
    name: 'worker, variables malformed',
    script: ['apps/worker/src/main.ts'],
    env: { DATABASE_URL: 'postgres//db', REDIS_URL: 'redis://127.0.0.1:6379', SMTP_URL: 'mail' },
    names: ['DATABASE_URL', 'SMTP_URL'],
  },
  {
    name: 'worker, production without its secrets',
    script: ['apps/worker/src/main.ts'],
    env: {
      NODE_ENV: 'production',
      DATABASE_URL: 'postgresql://app:pw@127.0.0.1:5432/app',
      REDIS_URL: 'redis://127.0.0.1:6379',
    },
    names: ['MFA_ENCRYPTION_KEY: is required in production'],
  },
  {
    name: 'pnpm jobs (dead letters), REDIS_URL malformed',
    script: ['apps/worker/src/cli.ts', 'dlq', 'list'],
    env: { REDIS_URL: 'not a url' },
    names: ['REDIS_URL'],
  },
  {
    name: 'pnpm jobs in production, REDIS_URL missing (no development default there)',
    script: ['apps/worker/src/cli.ts', 'dlq', 'list'],
    env: { NODE_ENV: 'production', REDIS_URL: '' },
    names: ['REDIS_URL: is required'],
  },
  {
    name: 'pnpm db:* (migrations), MIGRATION_DATABASE_URL malformed',
    script: ['packages/db/src/migrate/cli.ts', 'status'],
    env: { MIGRATION_DATABASE_URL: 'http://127.0.0.1:5432/db' },
    names: ['MIGRATION_DATABASE_URL'],
  },
  {
    name: 'pnpm db:seed, MIGRATION_DATABASE_URL malformed',
    script: ['packages/db/src/seed.ts'],
    env: { MIGRATION_DATABASE_URL: 'postgresql://[::1' },
    names: ['MIGRATION_DATABASE_URL'],
  },
  {
    name: 'pnpm dev, its own settings wrong',
    script: ['scripts/dev/start.mjs'],
    env: {
      GROUNDWORK_DEV_APPS: 'api,mobile',
      GROUNDWORK_DEV_SERVICES: 'kubernetes',
      WEB_PORT: '0',
    },
    names: ['GROUNDWORK_DEV_APPS', 'GROUNDWORK_DEV_SERVICES', 'WEB_PORT'],
  },
  {
    name: 'pnpm bench:api',
    script: ['apps/api/bench/api.ts'],
    env: { BENCH_DURATION_S: 'ten', BENCH_CONNECTIONS: '-5' },
    names: ['BENCH_DURATION_S', 'BENCH_CONNECTIONS'],
  },
  {
    name: 'pnpm bench:jobs',
    script: ['apps/worker/bench/jobs.ts'],
    env: { BENCH_JOBS: '1e99x' },
    names: ['BENCH_JOBS'],
  },
  {
    name: 'pnpm bench:rls',
    script: ['packages/db/bench/rls.ts'],
    env: { BENCH_OPERATIONS: '0' },
    names: ['BENCH_OPERATIONS'],
  },
  {
    name: 'pnpm bench:testdb',
    script: ['packages/testing/bench/provision-database.ts'],
    env: { BENCH_ITERATIONS: 'many' },
    names: ['BENCH_ITERATIONS'],
  },
]

describe('a bad or missing environment prints what is wrong and exits 1, never a stack trace', () => {
  it.concurrent.each(entryPoints)('$name', async ({ script, env, names }) => {
    const { code, output } = await run(script, env)
    expect(output).toContain('Invalid environment:')
    for (const name of names) expect(output).toMatch(new RegExp(`^  - ${name}`, 'm'))
    expect(output).not.toMatch(STACK_FRAME)
    expect(output).not.toContain('EnvError')
    expect(code).toBe(1)
  })
})

describe('a command whose dependency is down says so and how to start it, never a stack trace', () => {
  it.concurrent.each([
    {
      name: 'pnpm jobs with no Redis listening',
      script: ['apps/worker/src/cli.ts', 'dlq', 'list'],
      env: (port: number) => ({ REDIS_URL: `redis://127.0.0.1:${port}` }),
      says: (port: number) => `jobs: cannot reach Redis at 127.0.0.1:${port}`,
    },
    {
      name: 'pnpm db:status with no Postgres listening',
      script: ['packages/db/src/migrate/cli.ts', 'status'],
      env: (port: number) => ({
        MIGRATION_DATABASE_URL: `postgresql://postgres:postgres@127.0.0.1:${port}/groundwork`,
      }),
      says: (port: number) => `Can't reach database server at \`127.0.0.1:${port}\``,
    },
  ])('$name', async ({ script, env, says }) => {
    // A privileged port: only root binds one, nothing here does, and the system never hands
    // it out as a free port, so no other process can start listening on it meanwhile.
    const port = 1
    const { code, output } = await run(script, env(port))
    expect(output).toContain(says(port))
    expect(output).toContain('Is `pnpm dev` running?')
    expect(output).not.toMatch(STACK_FRAME)
    expect(code).toBe(1)
  })
})

describe('the demo data, whose password is public, is refused where it could be reached', () => {
  it.concurrent.each([
    {
      name: 'pnpm db:seed with NODE_ENV=production',
      script: ['packages/db/src/seed.ts'],
      env: { NODE_ENV: 'production', MIGRATION_DATABASE_URL: 'postgresql://a:b@127.0.0.1/db' },
      says: 'Refusing to seed demo data with NODE_ENV=production.',
    },
    {
      name: 'pnpm db:seed into a database on another host',
      script: ['packages/db/src/seed.ts'],
      env: { MIGRATION_DATABASE_URL: 'postgresql://a:b@staging-db.internal:5432/app' },
      says: 'Refusing to seed demo data (an account with a public password) into the database on staging-db.internal: it is not local. Add --force if you mean it.',
    },
    {
      name: 'pnpm db:reset of a database on another host',
      script: ['packages/db/src/migrate/cli.ts', 'reset'],
      env: { MIGRATION_DATABASE_URL: 'postgresql://a:b@staging-db.internal:5432/app' },
      says: 'Refusing to reset the database on staging-db.internal: it is not local. Add --force if you mean it.',
    },
    {
      name: 'pnpm dev with NODE_ENV=production',
      script: ['scripts/dev/start.mjs'],
      env: { NODE_ENV: 'production' },
      says: 'pnpm dev runs the development stack and refuses NODE_ENV=production: unset NODE_ENV.',
    },
  ])('$name', async ({ script, env, says }) => {
    const { code, output } = await run(script, env)
    expect(output).toContain(says)
    expect(output).not.toMatch(STACK_FRAME)
    expect(code).toBe(1)
  })
})

describe('--force lets a developer seed a database that is not local', () => {
  it('pnpm db:seed --force goes on to connect to it', async () => {
    // A host that never resolves: past the refusal, connecting is what fails.
    const { code, output } = await run(['packages/db/src/seed.ts', '--force'], {
      MIGRATION_DATABASE_URL: 'postgresql://a:b@staging-db.invalid:5432/app',
    })
    expect(output).not.toContain('Refusing')
    expect(output).toContain("Can't reach database server at staging-db.invalid")
    expect(code).toBe(1)
  })

  it('pnpm db:reset --force goes on to connect to it', async () => {
    const { code, output } = await run(['packages/db/src/migrate/cli.ts', 'reset', '--force'], {
      MIGRATION_DATABASE_URL: 'postgresql://a:b@staging-db.invalid:5432/app',
    })
    expect(output).not.toContain('Refusing')
    expect(output).toMatch(/staging-db\.invalid|ENOTFOUND|EAI_AGAIN/)
    expect(code).not.toBe(0)
  })
})

// A production-like environment, complete: each case below leaves one value out.
const production = {
  DATABASE_URL: 'postgresql://app:s3cret@db.internal:5432/app',
  WORKER_DATABASE_URL: 'postgresql://worker:s3cret@db.internal:5432/app',
  REDIS_URL: 'rediss://cache.internal:6380',
  MFA_ENCRYPTION_KEY: Buffer.alloc(32, 7).toString('base64'),
  API_PUBLIC_URL: 'https://api.example.com',
  APP_URL: 'https://app.example.com',
  SMTP_URL: 'smtps://mail.example.com:465',
  TRUST_PROXY: '10.0.0.0/8',
}
const required = {
  api: [
    'DATABASE_URL',
    'REDIS_URL',
    'MFA_ENCRYPTION_KEY',
    'API_PUBLIC_URL',
    'APP_URL',
    'TRUST_PROXY',
  ],
  worker: [
    'DATABASE_URL',
    'WORKER_DATABASE_URL',
    'REDIS_URL',
    'MFA_ENCRYPTION_KEY',
    'APP_URL',
    'SMTP_URL',
  ],
} as const
const scripts = { api: 'apps/api/src/server.ts', worker: 'apps/worker/src/main.ts' }

describe('configuration fails closed: outside development and tests, every app refuses to start without its real secrets and URLs', () => {
  // Every required value, with NODE_ENV=production and with NODE_ENV unset (which counts
  // as production).
  const cases = Object.entries(required).flatMap(([app, keys]) =>
    keys.flatMap((key) =>
      [undefined, 'production'].map((nodeEnv) => ({
        app: app as keyof typeof scripts,
        key,
        nodeEnv,
      })),
    ),
  )

  it.concurrent.each(cases)(
    '$app without $key (NODE_ENV=$nodeEnv)',
    async ({ app, key, nodeEnv }) => {
      const env: NodeJS.ProcessEnv = { ...production, ...(nodeEnv ? { NODE_ENV: nodeEnv } : {}) }
      delete env[key]
      const { code, output } = await run([scripts[app]], env)
      expect(output).toContain('Invalid environment:')
      expect(output).toMatch(new RegExp(`^  - ${key}: is required`, 'm'))
      expect(output).not.toMatch(STACK_FRAME)
      expect(code).toBe(1)
    },
  )

  it.concurrent.each([
    ['APP_URL', 'http://127.0.0.1:3000', 'is required in production (the development default'],
    ['SMTP_URL', 'smtp://127.0.0.1:1025', 'is required in production (the development default'],
    [
      'DATABASE_URL',
      'postgresql://groundwork:groundwork@127.0.0.1:5432/groundwork',
      'uses a published development login',
    ],
    // The published password on any host, port or scheme is still public.
    [
      'DATABASE_URL',
      'postgres://groundwork:groundwork@db.internal:6432/app',
      'uses a published development login',
    ],
    [
      'WORKER_DATABASE_URL',
      'postgresql://groundwork_worker_login:groundwork@db.internal/app',
      'uses a published development login',
    ],
  ])('the worker refuses the published development value of %s', async (key, value, says) => {
    const { code, output } = await run([scripts.worker], { ...production, [key]: value })
    expect(output).toContain(`  - ${key}: ${says}`)
    expect(code).toBe(1)
  })
})
