import { existsSync, readFileSync } from 'node:fs'
import { resolve } from 'node:path'
import { parseEnv as parseDotenv } from 'node:util'
import type { z } from 'zod'
import { loadEnvOrExit } from './load-env.ts'
import { devDefaults } from './schemas.ts'

type Env = Record<string, string | undefined>

/** The repository's .env, next to the root package.json. */
export const repositoryEnvFile = resolve(import.meta.dirname, '../../..', '.env')

/**
 * For the commands a developer runs against the dev stack (`pnpm dev`, `db:*`, `jobs`):
 * read the repository's .env if there is one, then fill what is still unset with the
 * URLs `pnpm dev` serves, so each command finds the stack on a fresh clone. Variables
 * already set win over .env, and .env wins over the defaults. With NODE_ENV=production
 * nothing is defaulted: there every variable must be set, and validation says which is not.
 */
export function loadDevEnv(env: Env = process.env, envFile = repositoryEnvFile): void {
  if (existsSync(envFile)) {
    // An empty value counts as unset, here as in validation (`FOO=` falls back).
    for (const [key, value] of Object.entries(parseDotenv(readFileSync(envFile, 'utf8'))))
      if (!env[key]) env[key] = value
  }
  if (env.NODE_ENV === 'production') return
  // The worker's login lives on the server and database that DATABASE_URL names.
  if (!env.WORKER_DATABASE_URL && env.DATABASE_URL)
    env.WORKER_DATABASE_URL = withLoginOf(env.DATABASE_URL, devDefaults.WORKER_DATABASE_URL)
  for (const [key, value] of Object.entries(devDefaults)) env[key] ||= value
}

/** loadDevEnv, then validate with `schema`: print what is wrong and exit 1 otherwise. */
export function loadDevEnvOrExit<T extends z.ZodType>(schema: T): z.infer<T> {
  loadDevEnv()
  return loadEnvOrExit(schema)
}

/** A URL on this machine: commands that destroy or seed refuse others without --force. */
export function isLocalUrl(url: string): boolean {
  return ['127.0.0.1', 'localhost', '[::1]'].includes(new URL(url).hostname)
}

/** `url` with the user and password of `login`; undefined when `url` does not parse. */
function withLoginOf(url: string, login: string): string | undefined {
  if (!URL.canParse(url)) return undefined
  const target = new URL(url)
  const from = new URL(login)
  target.username = from.username
  target.password = from.password
  return target.toString()
}
