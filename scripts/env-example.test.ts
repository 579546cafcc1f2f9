import { readdirSync, readFileSync, statSync } from 'node:fs'
import { join, relative, resolve } from 'node:path'
import { migrationEnv } from '@repo/config'
import { describe, expect, it } from 'vitest'
import { apiEnvSchema } from '../apps/api/src/env.ts'
import { opsEnv } from '../apps/ops/src/env.ts'
import { webEnvSchema } from '../apps/web/lib/env.ts'
import { workerEnvSchema } from '../apps/worker/src/env.ts'
import { devEnvSchema } from './dev/env.ts'

// .env.example is the list of every variable Groundwork reads (docs/environments.md says
// where each comes from in each environment): every key of the apps' env schemas and
// every variable read straight from process.env is in it, commented or not, and it names
// nothing that nobody reads.

const repoRoot = resolve(import.meta.dirname, '..')

/** Set by the platform or derived by the code itself: not configuration anyone writes. */
const NOT_CONFIGURATION: Record<string, string> = {
  NEXT_RUNTIME: 'set by Next.js',
  npm_package_name: 'set by pnpm',
  PATH: 'the shell',
  UV_THREADPOOL_SIZE:
    "Node's own, derived from PASSWORD_HASH_CONCURRENCY (apps/api/src/thread-pool.ts)",
  GROUNDWORK_WEB_DIST_DIR: 'set by the client bundle scan for its second build',
}

/** Where configuration is read: the apps, the packages and `pnpm dev`, not tests or benchmarks. */
const SOURCE_ROOTS = ['apps', 'packages', 'scripts/dev']
const SKIPPED =
  /(^|\/)(node_modules|\.next|dist|generated|test|e2e|bench|fixtures)(\/|$)|\.test\.tsx?$/

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((entry) => {
    const path = join(dir, entry)
    if (SKIPPED.test(relative(repoRoot, path))) return []
    if (statSync(path).isDirectory()) return sourceFiles(path)
    return /\.(ts|tsx|mjs)$/.test(entry) ? [path] : []
  })
}

/** Variables code reads itself: process.env.NAME and process.env['NAME']. */
function variablesReadFrom(source: string): string[] {
  return [...source.matchAll(/process\.env(?:\.(\w+)|\[['"](\w+)['"]\])/g)].map(
    (match) => (match[1] ?? match[2]) as string,
  )
}

/** Every name in an env file, set (`NAME=`) or commented out (`# NAME=`). */
function variablesNamedIn(example: string): string[] {
  return [...example.matchAll(/^#?\s*([A-Z][A-Z0-9_]*)=/gm)].map((match) => match[1] as string)
}

/** What .env.example lacks and what it names that nobody reads. */
function compare(example: string, read: Iterable<string>) {
  const named = new Set(variablesNamedIn(example))
  const known = new Set(read)
  return {
    missing: [...known].filter((name) => !named.has(name)).sort(),
    unknown: [...named].filter((name) => !known.has(name)).sort(),
  }
}

function variablesRead(): Set<string> {
  const read = new Set<string>()
  for (const schema of [
    apiEnvSchema,
    workerEnvSchema,
    webEnvSchema,
    devEnvSchema,
    migrationEnv,
    opsEnv.runtime,
  ])
    for (const name of Object.keys(schema.shape)) read.add(name)
  for (const root of SOURCE_ROOTS)
    for (const file of sourceFiles(join(repoRoot, root)))
      for (const name of variablesReadFrom(readFileSync(file, 'utf8')))
        if (!(name in NOT_CONFIGURATION)) read.add(name)
  return read
}

describe('.env.example', () => {
  const example = readFileSync(join(repoRoot, '.env.example'), 'utf8')
  const read = variablesRead()

  it('names every variable the apps, packages and pnpm dev read, and nothing else', () => {
    expect(compare(example, read)).toEqual({ missing: [], unknown: [] })
  })

  it('the scan finds schema keys and direct reads alike', () => {
    // Sanity: a scan that found nothing would make the comparison pass trivially.
    for (const name of [
      'DATABASE_URL',
      'MFA_ENCRYPTION_KEY',
      'BROWSER_SENTRY_DSN',
      'SENTRY_AUTH_TOKEN',
      'SHADOW_DATABASE_URL',
    ])
      expect(read).toContain(name)
    expect(variablesReadFrom("a = process.env.FOO ?? process.env['BAR']")).toEqual(['FOO', 'BAR'])
  })

  it('a variable removed from the file is reported missing', () => {
    const without = example.replace(/^SMTP_URL=.*\n/m, '')
    expect(compare(without, read)).toEqual({ missing: ['SMTP_URL'], unknown: [] })
  })

  it('a commented-out variable still counts; one nobody reads is reported', () => {
    const edited = example
      .replace(/^SMTP_URL=/m, '# SMTP_URL=')
      .concat('\n# A leftover\nSMTP_PASSWORD=\n')
    expect(compare(edited, read)).toEqual({ missing: [], unknown: ['SMTP_PASSWORD'] })
  })
})
