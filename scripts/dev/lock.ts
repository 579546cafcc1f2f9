import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { dirname } from 'node:path'
import { isAlive } from '@repo/testing/servers'

/**
 * One `pnpm dev` per checkout: a second one would fight the first over ports and data.
 * Returns a release function, or throws naming the pid that holds the lock. A lock left
 * by a process that no longer exists is taken over.
 */
export function acquireDevLock(path: string): () => void {
  mkdirSync(dirname(path), { recursive: true })
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      // 'wx' creates the file atomically or fails if it exists: two starts cannot both win.
      writeFileSync(path, String(process.pid), { flag: 'wx' })
      return () => rmSync(path, { force: true })
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error
    }
    const holder = Number(readFileSync(path, 'utf8').trim())
    if (Number.isInteger(holder) && holder > 0 && isAlive(holder)) {
      throw new Error(
        `pnpm dev is already running in this checkout (pid ${holder}). Stop it with Ctrl-C first.`,
      )
    }
    rmSync(path, { force: true })
  }
  throw new Error(`Could not take the dev lock ${path}; remove it if no pnpm dev is running.`)
}
