import { spawnSync } from 'node:child_process'
import { accessSync, constants, readFileSync } from 'node:fs'
import { delimiter, join } from 'node:path'
import { MONITORING_DIR, REPO_DIR } from '../generated.ts'

/**
 * promtool, from PATH. Missing, the test fails with what to install: CI must have it
 * (.ci/provision installs Debian's prometheus package), and a developer learns how.
 */
export function requirePromtool(): string {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    const candidate = join(dir, 'promtool')
    try {
      accessSync(candidate, constants.X_OK)
      return candidate
    } catch {}
  }
  throw new Error(
    'promtool is not installed (Debian/Ubuntu: apt-get install prometheus; macOS: brew install prometheus)',
  )
}

/** Runs promtool; never throws on a non-zero exit. */
export function promtool(args: string[], cwd = MONITORING_DIR) {
  const result = spawnSync(requirePromtool(), args, {
    cwd,
    encoding: 'utf8',
    timeout: 240_000,
    env: { PATH: process.env.PATH, HOME: process.env.HOME },
  })
  if (result.error) throw result.error
  return { status: result.status, output: `${result.stdout}${result.stderr}` }
}

export interface Metric {
  name: string
  type?: 'counter' | 'gauge' | 'histogram'
  labels?: string[]
  source?: string
}

export const METRICS = JSON.parse(
  readFileSync(join(MONITORING_DIR, 'metrics.json'), 'utf8'),
) as Record<'api' | 'worker' | 'both' | 'thirdParty', Metric[]>

export const OBSERVABILITY_DOC = join(REPO_DIR, 'docs/observability.md')
