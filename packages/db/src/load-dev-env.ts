import { existsSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { devDefaults } from '@repo/config'

/**
 * For the db:* commands: read the repository's .env if there is one, and fall back to the
 * URLs `pnpm dev` serves, so they work on a fresh clone while `pnpm dev` runs.
 */
export function loadDevEnv(): void {
  const rootEnv = fileURLToPath(new URL('../../../.env', import.meta.url))
  if (existsSync(rootEnv)) process.loadEnvFile(rootEnv)
  process.env.DATABASE_URL ||= devDefaults.DATABASE_URL
  process.env.MIGRATION_DATABASE_URL ||= devDefaults.MIGRATION_DATABASE_URL
}
