import { availableParallelism } from 'node:os'
import { ensurePrismaClient } from '@repo/db/generate'
import { defineConfig } from 'vitest/config'

// Tests import the Prisma client: bring it up to date first (a no-op when it is), so
// `pnpm exec vitest run <file>` right after a schema change or a fresh install just works.
ensurePrismaClient({ quiet: true })

// One run, one Postgres and one Redis (global setup); every test file gets its own
// database and Redis namespace, so files run in parallel.
export default defineConfig({
  test: {
    include: [
      'apps/*/src/**/*.test.ts',
      'apps/*/test/**/*.test.ts',
      'apps/*/e2e/**/*.test.ts',
      'packages/*/src/**/*.test.ts',
      'packages/*/test/**/*.test.ts',
      'scripts/**/*.test.ts',
      'infra/**/*.test.ts',
    ],
    exclude: ['**/node_modules/**', '**/.next/**', '**/dist/**'],
    globalSetup: ['./packages/testing/src/global-setup.ts'],
    pool: 'forks',
    // Integration tests mostly wait on Postgres, Redis and child processes: one more
    // worker than cores keeps the CPU busy (measured: 23 s -> 14 s on 2 cores).
    maxWorkers: availableParallelism() + 1,
    // A bound that catches a hang, not a speed check. A child process that starts in 1 s
    // alone took 15-20 s on a 2-core CI machine running three test files beside it (each
    // with its servers and browsers), and tests that start several went past 20 s.
    testTimeout: 60_000,
    hookTimeout: 120_000,
    teardownTimeout: 30_000,
    env: { NODE_ENV: 'test', LOG_LEVEL: 'silent' },
    // expect.poll waits on other processes (servers, workers, a browser): a loaded CI
    // machine can take longer than vitest's 1 s default; a condition that holds still
    // passes at once.
    expect: { poll: { timeout: 10_000 } },
  },
})
