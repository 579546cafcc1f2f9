import { createReadStream, createWriteStream } from 'node:fs'
import { access, constants, mkdir, readdir, rename, rm, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { pipeline } from 'node:stream/promises'
import { BackupError, messageOf } from './errors.ts'
import type { Storage } from './storage.ts'

const unwritable = (dir: string, error: unknown) =>
  new BackupError('unwritable', `cannot write backups to ${dir}: ${messageOf(error)}`, {
    cause: error,
  })

async function assertReadable(file: string) {
  try {
    await access(file, constants.R_OK)
  } catch (error) {
    throw new BackupError('missing', `${file} does not exist or cannot be read`, { cause: error })
  }
}

/** Backups as files in a directory (a mounted volume, a NAS); created when missing. */
export function directoryStorage(dir: string): Storage {
  const path = (name: string) => join(dir, name)
  return {
    describe: (name) => (name ? path(name) : dir),
    async assertWritable() {
      try {
        await mkdir(dir, { recursive: true })
        await access(dir, constants.W_OK)
        // access() trusts permission bits; a read-only mount only shows on a real write.
        const probe = path(`.write-probe-${process.pid}`)
        await writeFile(probe, '')
        await rm(probe, { force: true })
      } catch (error) {
        throw unwritable(dir, error)
      }
    },
    async write(name, body, signal) {
      // Written under a temporary name and renamed once complete: a reader never sees half.
      const partial = path(`.${name}.partial`)
      try {
        await pipeline(body, createWriteStream(partial, { mode: 0o600 }), { signal })
        await rename(partial, path(name))
      } catch (error) {
        await rm(partial, { force: true })
        const code = (error as NodeJS.ErrnoException).code
        if (code && ['EACCES', 'EPERM', 'EROFS', 'ENOSPC', 'ENOENT', 'ENOTDIR'].includes(code))
          throw unwritable(dir, error)
        throw error
      }
    },
    async read(name) {
      await assertReadable(path(name))
      return createReadStream(path(name))
    },
    async list() {
      try {
        return await readdir(dir)
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'ENOENT') return []
        throw error
      }
    },
    async remove(names) {
      for (const name of names) await rm(path(name), { force: true })
    },
    async localCopy(name) {
      await assertReadable(path(name))
      return { path: path(name), cleanUp: async () => {} }
    },
  }
}
