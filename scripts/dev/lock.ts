import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import lockfile from 'proper-lockfile'

/**
 * One `pnpm dev` per checkout: a second one would fight the first over ports and data.
 * proper-lockfile takes the lock atomically (mkdir) and keeps it fresh while we run, so a
 * lock left by a process that died goes stale after `staleMs` instead of trusting a pid
 * that may have been reused. Returns a release function, or throws naming the holder.
 */
export async function acquireDevLock(
  dataDir: string,
  staleMs = 10_000,
): Promise<() => Promise<void>> {
  mkdirSync(dataDir, { recursive: true })
  const pidFile = join(dataDir, 'dev.pid')
  let release: () => Promise<void>
  try {
    release = await lockfile.lock(dataDir, {
      lockfilePath: join(dataDir, 'dev.lock'),
      stale: staleMs,
      update: staleMs / 4,
      realpath: false,
      onCompromised: (error) => console.warn(`[dev] lost the dev lock: ${error.message}`),
    })
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ELOCKED') throw error
    let holder = 'unknown'
    try {
      holder = readFileSync(pidFile, 'utf8').trim() || holder
    } catch {}
    throw new Error(
      `pnpm dev is already running in this checkout (pid ${holder}). Stop it with Ctrl-C first ` +
        `(if that process crashed, the lock frees itself within ${staleMs / 1000} s).`,
    )
  }
  writeFileSync(pidFile, String(process.pid))
  return async () => {
    rmSync(pidFile, { force: true })
    await release().catch(() => {})
  }
}
